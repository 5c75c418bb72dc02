import NIOCore
import Testing

@testable import Simulator

/// The simulator's input parsing: URLs and source address ranges, with one clear
/// error for bad input.
@Suite struct CommandLineParsingTests {
    @Test func aStationURLSplitsIntoEndpointAndIdentity() throws {
        let (endpoint, identity) = try StationEndpoint.splitStationURL("ws://localhost:3000/ocpp/DEMO-STATION")
        #expect(identity == "DEMO-STATION")
        #expect(endpoint.host == "localhost")
        #expect(endpoint.port == 3000)
        #expect(endpoint.basePath == "/ocpp")
        #expect(!endpoint.useTLS)
        #expect(endpoint.path(for: "CP 1") == "/ocpp/CP%201")
    }

    @Test func wssDefaultsToPort443() throws {
        let endpoint = try StationEndpoint(url: "wss://csms.example/v1/ocpp/")
        #expect(endpoint.useTLS)
        #expect(endpoint.port == 443)
        #expect(endpoint.basePath == "/v1/ocpp")
    }

    @Test(arguments: ["localhost:3000/ocpp", "http://localhost/ocpp", "ws://:3000/ocpp", "ws://host:99999/ocpp"])
    func badURLsAreRefused(_ url: String) {
        #expect(throws: SimulatorError.self) { try StationEndpoint(url: url) }
    }

    @Test func aStationURLNeedsAnIdentity() {
        #expect(throws: SimulatorError.self) { try StationEndpoint.splitStationURL("ws://localhost:3000") }
    }

    @Test func sourceAddressRangesExpandInTheLastOctet() throws {
        let sources = try SourceAddresses(parsing: "127.0.0.1-127.0.0.4,127.0.1.9")
        #expect(sources.addresses.count == 5)
        #expect(sources.address(for: 4).ipAddress == "127.0.1.9")
        #expect(sources.address(for: 5).ipAddress == "127.0.0.1")
    }

    @Test(arguments: ["127.0.0.5-127.0.0.1", "127.0.0.1-127.0.1.2", "localhost", ""])
    func badSourceAddressesAreRefused(_ text: String) {
        #expect(throws: SimulatorError.self) { try SourceAddresses(parsing: text) }
    }
}
