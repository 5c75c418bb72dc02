import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import Worker

/// A real worker while its database goes away and comes back: it says so on
/// `/readyz`, keeps running, and applies new work rows again by itself.
@Suite("Worker through a database outage", .serialized, .timeLimit(.minutes(2)))
struct WorkerOutageTests {
    @Test func theWorkerRecoversByItselfAfterAnOutage() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let name = try #require(configuration.database)
            let stationID = try await client.scalar(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-OUTAGE', 'Accepted') RETURNING id",
                as: Int64.self)
            let worker = try await WorkerHarness.start(database: configuration) { $0.pollInterval = .milliseconds(100) }
            do {
                try await Self.heartbeatIsApplied(client: client, stationID: stationID)
                try await eventually("/readyz says 200 while the database is up") {
                    try await RawHTTP.get(port: worker.port, path: "/readyz").status == 200
                }

                try await TestDatabase.setConnectionsAllowed(false, database: name)
                do {
                    try await eventually("/readyz says 503 while the database is down") {
                        try await RawHTTP.get(port: worker.port, path: "/readyz").status == 503
                    }
                    #expect(try await RawHTTP.get(port: worker.port, path: "/healthz").status == 200)
                } catch {
                    try? await TestDatabase.setConnectionsAllowed(true, database: name)
                    throw error
                }
                try await TestDatabase.setConnectionsAllowed(true, database: name)

                // No restart: the same worker reconnects and applies what arrives now.
                try await Self.heartbeatIsApplied(client: client, stationID: stationID)
                try await eventually("/readyz says 200 again after the database is back") {
                    try await RawHTTP.get(port: worker.port, path: "/readyz").status == 200
                }
            } catch {
                try? await worker.stop()
                throw error
            }
            // A drain loop caught by the outage in a query that never ends must not hold
            // the shutdown past its timeout (10 s): ServiceLifecycle would then kill the
            // process. The loop waits for its batch 5 s at most.
            let stopping = ContinuousClock.now
            try await worker.stop()
            #expect(ContinuousClock.now - stopping < .seconds(9))
        }
    }

    /// Writes a Heartbeat work row and waits until a worker has applied it.
    private static func heartbeatIsApplied(client: PostgresClient, stationID: Int64) async throws {
        let id = try await client.scalar(
            """
            INSERT INTO ocpp.inbox (gateway_id, station_id, kind, action, message_id, payload, response)
            VALUES ('test-gateway', \(stationID), 'call', 'Heartbeat', \(UUID().uuidString), '{}', '{}')
            RETURNING id
            """, as: Int64.self)
        try await eventually("the worker applies work row \(id)") {
            try await client.scalar(
                "SELECT NOT EXISTS (SELECT 1 FROM ocpp.inbox_pending WHERE id = \(id))", as: Bool.self)
        }
    }
}
