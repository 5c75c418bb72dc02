import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// ``StationStateHandler``'s online state from `connected`/`disconnected` rows: the
/// session with the latest start is current, and only its own disconnect ends it.
@Suite("Connect and disconnect")
struct PresenceTests {
    static func presence(of station: Int64, in fixture: InboxFixture) async throws -> JSONValue {
        try await fixture.row(
            """
            SELECT online, session_id, session_gateway_id, connected_at, disconnected_at
            FROM ocpp.stations WHERE id = \(station)
            """)
    }

    static func session(_ id: UUID) -> JSONValue { .string(id.uuidString.lowercased()) }

    @Test func onlineAfterConnectOfflineAfterItsDisconnect() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let session = UUID()
            try await fixture.insert(
                [.presence("connected", session: session, connectedAt: TestTime.at(10), receivedAt: TestTime.at(10))],
                station: station)
            try await fixture.drain()
            let online = try await Self.presence(of: station, in: fixture)
            #expect(online["online"] == true)
            #expect(online["session_id"] == Self.session(session))
            #expect(online["session_gateway_id"] == "g")
            #expect(online["connected_at"]?.date == TestTime.at(10))
            #expect(online["disconnected_at"] == .null)

            try await fixture.insert(
                [
                    .presence(
                        "disconnected", session: session, connectedAt: TestTime.at(10), receivedAt: TestTime.at(70))
                ],
                station: station)
            try await fixture.drain()
            let offline = try await Self.presence(of: station, in: fixture)
            #expect(offline["online"] == false)
            #expect(offline["session_id"] == Self.session(session))
            #expect(offline["disconnected_at"]?.date == TestTime.at(70))
        }
    }

    /// A short session's two rows can be applied in reverse (two workers, or one batch
    /// where the disconnect got the lower id): the station must not be left online.
    @Test(arguments: [false, true])
    func aDisconnectAppliedBeforeItsConnectStaysOffline(inOneBatch: Bool) async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let session = UUID()
            let connect = InboxFixture.Row.presence(
                "connected", session: session, connectedAt: TestTime.at(10), receivedAt: TestTime.at(10))
            let disconnect = InboxFixture.Row.presence(
                "disconnected", session: session, connectedAt: TestTime.at(10), receivedAt: TestTime.at(11))
            try await fixture.apply([disconnect, connect], station: station, inOneBatch: inOneBatch)

            let state = try await Self.presence(of: station, in: fixture)
            #expect(state["online"] == false)
            #expect(state["session_id"] == Self.session(session))
            #expect(state["disconnected_at"]?.date == TestTime.at(11))
        }
    }

    /// Takeover (invariant 8): session B replaced A; A's disconnect, written by the
    /// old gateway when it closed A, arrives after B's connect.
    @Test func aLateDisconnectOfAReplacedSessionLeavesTheNewOneOnline() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let (sessionA, sessionB) = (UUID(), UUID())
            try await fixture.insert(
                [
                    .presence(
                        "connected", session: sessionA, connectedAt: TestTime.at(10), receivedAt: TestTime.at(10)),
                    .presence(
                        "connected", session: sessionB, connectedAt: TestTime.at(20), gateway: "g2",
                        receivedAt: TestTime.at(20)),
                ], station: station)
            try await fixture.drain()
            try await fixture.insert(
                [
                    .presence(
                        "disconnected", session: sessionA, connectedAt: TestTime.at(10), receivedAt: TestTime.at(21))
                ],
                station: station)
            try await fixture.drain()

            var state = try await Self.presence(of: station, in: fixture)
            #expect(state["online"] == true)
            #expect(state["session_id"] == Self.session(sessionB))
            #expect(state["session_gateway_id"] == "g2")
            #expect(state["connected_at"]?.date == TestTime.at(20))

            // A's connect applied last of all changes nothing either.
            try await fixture.insert(
                [.presence("connected", session: sessionA, connectedAt: TestTime.at(10), receivedAt: TestTime.at(10))],
                station: station)
            try await fixture.drain()
            state = try await Self.presence(of: station, in: fixture)
            #expect(state["online"] == true)
            #expect(state["session_id"] == Self.session(sessionB))
        }
    }
}
