import Foundation
import NIOWebSocket
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing
import WSCore

@testable import Gateway

/// The gateway's handshake and connection policies, through the real
/// `HandshakePolicy` (not a stand-in decider), a real database and real sockets:
/// Basic auth against stored hashes, registration policies, binary frames, `/readyz`.
@Suite("Gateway policies end to end", .serialized, .timeLimit(.minutes(2)))
struct GatewayPolicyEndToEndTests {
    static let password = "AuthorizationKey-0123456789"

    // MARK: Security profile 1: HTTP Basic

    @Test func basicAuthAcceptsOnlyTheStationsOwnCredentials() async throws {
        try await withGateway(configure: { $0.auth = .basic }) { client, gateway in
            try await Self.addStation(client, "CP-BASIC", password: Self.password)
            try await Self.addStation(client, "CP-NEIGHBOUR", password: "neighbours-own-key")
            try await Self.addStation(client, "CP-NOKEY", password: nil)

            let accepted = try await RawHTTP.upgrade(
                port: gateway.port, path: "/ocpp/CP-BASIC", authorization: RawHTTP.basic("CP-BASIC", Self.password))
            #expect(accepted.status == 101)
            #expect(accepted.header("Sec-WebSocket-Protocol") == "ocpp1.6")

            let refusals: [(what: String, path: String, authorization: String?)] = [
                ("wrong password", "/ocpp/CP-BASIC", RawHTTP.basic("CP-BASIC", "not-the-key")),
                // Another station's valid credentials do not open this station's endpoint.
                ("username is not the identity", "/ocpp/CP-BASIC", RawHTTP.basic("CP-NEIGHBOUR", "neighbours-own-key")),
                ("no credentials", "/ocpp/CP-BASIC", nil),
                ("not Basic", "/ocpp/CP-BASIC", "Bearer \(Self.password)"),
                ("no password stored", "/ocpp/CP-NOKEY", RawHTTP.basic("CP-NOKEY", "")),
                ("unknown identity", "/ocpp/CP-STRANGER", RawHTTP.basic("CP-STRANGER", Self.password)),
            ]
            for refusal in refusals {
                let response = try await RawHTTP.upgrade(
                    port: gateway.port, path: refusal.path, authorization: refusal.authorization)
                #expect(response.status == 401, "\(refusal.what)")
                // RFC 7235: a 401 names the scheme to use.
                #expect(response.header("WWW-Authenticate")?.hasPrefix("Basic realm=") == true, "\(refusal.what)")
            }
            // A refused unknown identity is not registered on the way.
            #expect(
                try await client.scalar(
                    "SELECT count(*) FROM ocpp.stations WHERE identity = 'CP-STRANGER'", as: Int.self) == 0)

            // The accepted credentials give a working OCPP session.
            let station = try await TestStation.connect(
                port: gateway.port, identity: "CP-BASIC", authorization: RawHTTP.basic("CP-BASIC", Self.password))
            _ = try await station.callResult("Heartbeat", [:])
            await station.close()
        }
    }

    /// Under `insecure-none` a station without a password connects without
    /// credentials, but one that has a password needs it: a stored password is never
    /// optional (before, such a station was let in with a wrong one or none).
    @Test func aStationThatHasAPasswordAlwaysNeedsIt() async throws {
        try await withGateway(configure: { $0.auth = .insecureNone }) { client, gateway in
            try await Self.addStation(client, "CP-KEYED", password: Self.password)
            try await Self.addStation(client, "CP-OPEN", password: nil)
            for (what, authorization) in [
                ("no credentials", nil), ("wrong password", RawHTTP.basic("CP-KEYED", "not-the-key")),
                ("another username", RawHTTP.basic("CP-OPEN", Self.password)),
            ] as [(String, String?)] {
                let refused = try await RawHTTP.upgrade(
                    port: gateway.port, path: "/ocpp/CP-KEYED", authorization: authorization)
                #expect(refused.status == 401, "\(what)")
            }
            let accepted = try await RawHTTP.upgrade(
                port: gateway.port, path: "/ocpp/CP-KEYED", authorization: RawHTTP.basic("CP-KEYED", Self.password))
            #expect(accepted.status == 101)
            let open = try await RawHTTP.upgrade(port: gateway.port, path: "/ocpp/CP-OPEN")
            #expect(open.status == 101)
        }
    }

    // MARK: Registration policies

    @Test func theKnownPolicyRefusesUnknownIdentitiesBeforeTheUpgrade() async throws {
        try await withGateway(configure: { $0.registrationPolicy = .known }) { client, gateway in
            try await Self.addStation(client, "CP-KNOWN", password: nil)

            let refused = try await RawHTTP.upgrade(port: gateway.port, path: "/ocpp/CP-UNKNOWN")
            // HandshakePolicy answers 404, as OCPP-J 1.6 section 3 suggests for unknown charge points.
            #expect(refused.status == 404)
            #expect(
                try await client.scalar(
                    "SELECT count(*) FROM ocpp.stations WHERE identity = 'CP-UNKNOWN'", as: Int.self) == 0)

            let known = try await TestStation.connect(port: gateway.port, identity: "CP-KNOWN")
            _ = try await known.callResult("Heartbeat", [:])
            await known.close()
        }
    }

    /// Complements `pendingStationsMayOnlyBootUntilAccepted` in GatewayEndToEndTests
    /// (Pending boot answer, SecurityError for a Heartbeat, Accepted after an operator
    /// accepts): a refused CALL must leave no trace, so a pending station cannot
    /// open a transaction or report anything until it is accepted.
    @Test func aPendingStationIsStoredPendingAndItsRefusedCallsLeaveNoTrace() async throws {
        try await withGateway(configure: { $0.registrationPolicy = .pending }) { client, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-WAITING")
            #expect(
                try await client.scalar(
                    "SELECT registration_status FROM ocpp.stations WHERE identity = 'CP-WAITING'", as: String.self)
                    == "Pending")

            let now = StationExamples.now
            let refused: [(action: String, payload: JSONValue)] = [
                ("StartTransaction", ["connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": .string(now)]),
                (
                    "StatusNotification",
                    ["connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": .string(now)]
                ),
                ("Authorize", ["idTag": "TAG-1"]),
                ("DataTransfer", ["vendorId": "com.example"]),
            ]
            for call in refused {
                guard case .callError(let error) = try await station.call(call.action, call.payload) else {
                    Issue.record("a pending station's \(call.action) must be refused")
                    continue
                }
                #expect(error.errorCode == .securityError, "\(call.action)")
            }
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.transaction_starts", as: Int.self) == 0)
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.inbox WHERE kind = 'call'", as: Int.self) == 0)

            // The BootNotification is answered Pending and is the one CALL journaled.
            let boot = try await station.callResult(
                "BootNotification", ["chargePointVendor": "V", "chargePointModel": "M"])
            #expect(boot["status"] == "Pending")
            #expect(
                try await client.scalar(
                    "SELECT string_agg(action, ',') FROM ocpp.inbox WHERE kind = 'call'", as: String.self)
                    == "BootNotification")
            await station.close()
        }
    }

    // MARK: Frames

    @Test func aBinaryFrameClosesTheConnectionWith1003() async throws {
        try await withGateway { _, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-BINARY")
            _ = try await station.callResult("Heartbeat", [:])
            try await station.sendBinary(Array(#"[2,"b1","Heartbeat",{}]"#.utf8))
            let close = try await station.closed()
            #expect(close?.closeCode == .unacceptableData)

            // Only that connection ended: the station reconnects and is served.
            let again = try await TestStation.connect(port: gateway.port, identity: "CP-BINARY")
            _ = try await again.callResult("Heartbeat", [:])
            await again.close()
        }
    }

    // MARK: Readiness

    @Test func readinessFollowsTheDatabase() async throws {
        try await withGateway(configure: { $0.ingestTimeout = .seconds(2) }) { _, gateway in
            let name = try #require(gateway.databaseName)
            try await eventually("/readyz says 200 once the database was reached") {
                try await RawHTTP.get(port: gateway.port, path: "/readyz").status == 200
            }

            try await TestDatabase.setConnectionsAllowed(false, database: name)
            do {
                try await eventually("/readyz says 503 while the database is down") {
                    try await RawHTTP.get(port: gateway.port, path: "/readyz").status == 503
                }
                // Liveness is not readiness: the process itself is fine.
                #expect(try await RawHTTP.get(port: gateway.port, path: "/healthz").status == 200)
            } catch {
                try? await TestDatabase.setConnectionsAllowed(true, database: name)
                throw error
            }

            try await TestDatabase.setConnectionsAllowed(true, database: name)
            try await eventually("/readyz says 200 again after the database is back") {
                try await RawHTTP.get(port: gateway.port, path: "/readyz").status == 200
            }
        }
    }

    // MARK: Helpers

    /// An Accepted station, with the scrypt hash of `password` (nil: no password).
    private static func addStation(_ client: PostgresClient, _ identity: String, password: String?) async throws {
        let hash = try password.map { try PasswordHash.make(password: $0) }
        try await client.query(
            """
            INSERT INTO ocpp.stations (identity, registration_status, password_hash)
            VALUES (\(identity), 'Accepted', \(hash))
            """, logger: TestDatabase.logger)
    }

    private func withGateway(
        configure: @escaping @Sendable (inout GatewaySettings) -> Void = { _ in },
        _ body: @Sendable (PostgresClient, GatewayUnderTest) async throws -> Void
    ) async throws {
        try await GatewayHarness.withGateway(configure: configure) { client, configuration, gateway in
            try await body(client, GatewayUnderTest(port: gateway.port, databaseName: configuration.database))
        }
    }
}

/// What a test needs of its gateway: where it listens and which database it uses.
private struct GatewayUnderTest: Sendable {
    var port: Int
    var databaseName: String?
}
