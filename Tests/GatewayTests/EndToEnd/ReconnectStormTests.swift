import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Gateway

/// Many stations reconnecting at once: the gateway admits them at its rates, answers
/// the boots beyond its budget Pending with a short, jittered retry interval, and
/// every station ends up Accepted without a single error.
///
/// The limit only stops a hang: in a debug build the 5,000-station test keeps both
/// cores busy for one to two minutes (the stations' WebSocket clients and the
/// gateway share this one process), and over five beside the other suites on a
/// slow day of the shared VM. It asserts admission, not speed.
@Suite("Reconnect storm end to end", .serialized, .timeLimit(.minutes(10)))
struct ReconnectStormTests {
    static let stations = 200

    @Test func everyStationOfAStormIsAcceptedSoonWithoutErrors() async throws {
        try await GatewayHarness.withGateway(configure: {
            $0.upgradeRate = 100
            $0.bootRate = 20
            $0.stormRetryInterval = 2
        }) { client, _, gateway in
            let deferrals = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<Self.stations {
                    group.addTask {
                        try await Self.bootUntilAccepted(port: gateway.port, identity: "CP-STORM-\(index)")
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(deferrals.count == Self.stations)
            // The budget did defer boots, and a deferred station came back and got in.
            #expect(deferrals.reduce(0, +) > 0)
            try await eventually("every boot is journaled") {
                try await client.scalar(
                    "SELECT count(DISTINCT station_id) FROM ocpp.inbox WHERE action = 'BootNotification'", as: Int.self)
                    == Self.stations
            }
        }
    }

    /// The size the issue names: 5,000 stations connecting and booting at the same
    /// moment, at the default admission rates, all Accepted with no error.
    @Test func fiveThousandSimultaneousReconnectsAreAdmittedWithoutErrors() async throws {
        let count = 5_000
        try await GatewayHarness.withGateway(configure: {
            // All of them come from 127.0.0.1.
            $0.maxConnectionsPerAddress = 0
            $0.stormRetryInterval = 2
        }) { client, _, gateway in
            // A reconnect storm is of stations the system knows.
            try await client.query(
                """
                INSERT INTO ocpp.stations (identity, registration_status)
                SELECT 'CP-BIG-' || n, 'Accepted' FROM generate_series(0, \(count - 1)) AS n
                """)
            let deferrals = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<count {
                    group.addTask { try await Self.bootUntilAccepted(port: gateway.port, identity: "CP-BIG-\(index)") }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(deferrals.count == count)
            try await eventually("every boot is journaled") {
                try await client.scalar(
                    "SELECT count(DISTINCT station_id) FROM ocpp.inbox WHERE action = 'BootNotification'", as: Int.self)
                    == count
            }
        }
    }

    /// Boots until Accepted, waiting the interval a Pending answer gives; returns how
    /// many times it was told Pending.
    static func bootUntilAccepted(port: Int, identity: String) async throws -> Int {
        let station = try await connectLikeAStation(port: port, identity: identity)
        var pending = 0
        while true {
            // This asserts admission, not latency: the whole crowd shares two cores
            // with a debug build of the gateway.
            let answer = try await station.callResult(
                "BootNotification", ["chargePointVendor": "V", "chargePointModel": "M"], timeout: .seconds(60))
            if answer["status"] == "Accepted" { break }
            #expect(answer["status"] == "Pending")
            guard case .integer(let interval)? = answer["interval"] else {
                Issue.record("a Pending answer without an interval")
                break
            }
            #expect((1...3).contains(interval), "jittered around the storm retry interval")
            pending += 1
            try await Task.sleep(for: .seconds(interval))
        }
        await station.close()
        return pending
    }

    /// Connects, and like a real station tries again a moment later when the
    /// gateway turns the upgrade away (503 beyond its upgrade budget) or the
    /// connection does not come up in the crowd.
    static func connectLikeAStation(port: Int, identity: String) async throws -> TestStation {
        for _ in 0..<20 {
            if let station = try? await TestStation.connect(port: port, identity: identity) { return station }
            try await Task.sleep(for: .milliseconds(Int.random(in: 500...2000)))
        }
        return try await TestStation.connect(port: port, identity: identity)
    }
}
