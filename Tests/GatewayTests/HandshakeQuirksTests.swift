import HTTPTypes
import OCPP
import Shared
import Testing

@testable import Gateway

/// What real chargers put in the upgrade request, read the way HTTP and URLs are
/// defined: the subprotocol list and a percent-encoded identity.
@Suite("Handshake: subprotocol lists and identities as chargers send them")
struct HandshakeQuirksTests {
    /// Header lines exactly as seen from chargers and their proxies.
    @Test(arguments: [
        ["ocpp1.6"],
        ["  ocpp1.6  "],  // spaces around the value
        ["\tocpp1.6"],  // a tab (HTTP's optional whitespace)
        [",ocpp1.6"],  // a leading comma
        ["ocpp1.6,"],  // a trailing comma
        ["ocpp2.0.1, ocpp1.6"],  // several values, ours not first
        ["ocpp1.5,ocpp1.6,ocpp2.0"],  // several values without spaces
        ["ocpp1.5", "ocpp1.6"],  // several header lines
    ])
    func offeredSubprotocolIsFound(lines: [String]) {
        var headers = HTTPFields()
        for line in lines { headers.append(HTTPField(name: .secWebSocketProtocol, value: line)) }
        #expect(HandshakePolicy.selectSubprotocol(headers) == "ocpp1.6")
    }

    @Test(arguments: [[], [""], ["ocpp1.5"], ["OCPP1.6"], ["ocpp1.6x"], ["ocpp 1.6"]])
    func otherSubprotocolsAreNotOurs(lines: [String]) {
        var headers = HTTPFields()
        for line in lines { headers.append(HTTPField(name: .secWebSocketProtocol, value: line)) }
        #expect(HandshakePolicy.selectSubprotocol(headers) == nil)
    }

    /// A path segment is percent-encoded by definition (RFC 3986): some chargers and
    /// proxies encode characters that need none.
    @Test(arguments: [
        ("/ocpp/CP%2D01", "CP-01"),
        ("/ocpp/ACME%7C0042", "ACME|0042"),
        ("/v1/ocpp/cp%2e7", "cp.7"),
        ("/ocpp/CP-01?token=x", "CP-01"),
    ])
    func percentEncodedIdentitiesAreDecoded(path: String, identity: String) throws {
        #expect(try StationIdentity.parse(path: path) == identity)
    }

    @Test(arguments: ["/ocpp/CP%2F01", "/ocpp/CP%3A01", "/ocpp/CP%2", "/ocpp/CP%00", "/ocpp/"])
    func decodedIdentitiesMustStillBeValid(path: String) {
        #expect(throws: StationIdentity.Failure.invalidIdentity) { try StationIdentity.parse(path: path) }
    }
}
