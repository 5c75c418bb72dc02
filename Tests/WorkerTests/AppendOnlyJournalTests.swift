import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// The journal is append-only (migration 0017): what has been applied is a cursor
/// per bucket of stations, in (txid, id) order, up to the oldest transaction still
/// running.
@Suite("Append-only inbox journal")
struct AppendOnlyJournalTests {
    @Test("applying a batch rewrites no journal row")
    func applyingRewritesNoRow() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let heartbeat = InboxFixture.Row.call("Heartbeat", "{}")
            try await fixture.insert([heartbeat, heartbeat, heartbeat], station: station)
            let before = try await Self.rowVersions(fixture.client)
            #expect(try await fixture.drain() == 3)
            // An UPDATE writes a new row version: another ctid, another xmin.
            #expect(try await Self.rowVersions(fixture.client) == before)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.inbox_pending") == 0)
        }
    }

    /// Journal ids come from a sequence, and the transaction that took the smaller
    /// id can commit last. A cursor that passed the later id first would skip the
    /// earlier one for ever.
    @Test("a row whose transaction commits after a later id's is applied, not skipped")
    func aRowCommittedLateIsNotSkipped() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let fixture = InboxFixture(client: client)
            let station = try await fixture.station("CP-1")
            try await PostgresClient.withClient(configuration: configuration, logger: TestDatabase.logger) {
                gatewayClient in
                try await gatewayClient.withConnection { slowGateway in
                    try await slowGateway.query("BEGIN", logger: TestDatabase.logger)
                    let early = try await Self.insertHeartbeat(station: station, on: slowGateway)
                    // Another gateway's row: a later id, committed at once.
                    let late: Int64 = try await client.scalar(
                        """
                        INSERT INTO ocpp.inbox (gateway_id, station_id, kind, action, message_id, payload, response)
                        VALUES ('fast-gateway', \(station), 'call', 'Heartbeat', 'late', '{}', '{}') RETURNING id
                        """)
                    #expect(late > early)
                    // The later row waits behind the transaction still running.
                    #expect(try await fixture.applier().applyNextBatch().ids == [])
                    try await slowGateway.query("COMMIT", logger: TestDatabase.logger)
                    #expect(try await fixture.applier().applyNextBatch().ids == [early, late])
                }
            }
            #expect(try await fixture.count("SELECT 1 FROM ocpp.inbox_pending") == 0)
        }
    }

    @Test("a station's rows are applied in the order they were journaled, across batches")
    func aStationsRowsAreAppliedInOrder() async throws {
        try await InboxFixture.withFixture { fixture in
            let stations = [try await fixture.station("CP-1"), try await fixture.station("CP-2")]
            var journaled: [Int64] = []
            for index in 0..<20 {
                journaled += try await fixture.insert(
                    [.call("Heartbeat", "{}")], station: stations[index % 2])
            }
            var applied: [Int64] = []
            while true {
                let batch = try await fixture.applier(batchSize: 3).applyNextBatch()
                if batch.isEmpty { break }
                applied += batch.ids
            }
            #expect(applied == journaled)
        }
    }

    @Test("a batch leases at most its share of the buckets; a second applier takes others at once")
    func aLeaseTakesItsShareOfTheBuckets() async throws {
        try await InboxFixture.withFixture { fixture in
            for index in 0..<64 {
                let station = try await fixture.station("CP-\(index)")
                try await fixture.insert([.call("Heartbeat", "{}")], station: station)
            }
            let buckets = { (ids: [Int64]) in
                try await fixture.texts(
                    "SELECT DISTINCT ocpp.inbox_bucket(station_id)::text FROM ocpp.inbox WHERE id = ANY(\(ids))")
            }
            let applier = InboxApplier(
                client: fixture.client, batchSize: 1000, leaseBuckets: 8, metrics: WorkerMetrics(),
                logger: TestDatabase.logger)
            try await fixture.client.withTransaction(logger: TestDatabase.logger) { holder in
                // Another worker holds the longest-waiting buckets for as long as this runs.
                var held: [Int32] = []
                for try await bucket in try await holder.execute(
                    LeaseBucketsStatement(limit: 8), logger: TestDatabase.logger)
                {
                    held.append(bucket)
                }
                #expect(held.count == 8)
                let first = try await applier.applyNextBatch()
                #expect(first.ids.count == 8 && first.leftBucketsOut && !first.mayHaveMore)
                let taken = Set(try await buckets(first.ids).compactMap { Int32($0) })
                #expect(taken.count == 8 && taken.isDisjoint(with: held), "its own buckets: \(taken), held \(held)")
            }
        }
    }

    @Test("a refused row is recorded beside the journal, and a requeued copy applies")
    func aRefusedRowIsRecordedAndCanBeRequeued() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            // A rule of the operator's that the row breaks (SQLSTATE 23514: refused data).
            try await fixture.client.query(
                "ALTER TABLE ocpp.connectors ADD CONSTRAINT no_faults CHECK (status <> 'Faulted')",
                logger: TestDatabase.logger)
            let ids = try await fixture.insert(
                [.call("StatusNotification", #"{"connectorId": 1, "status": "Faulted", "errorCode": "OtherError"}"#)],
                station: station)
            #expect(try await fixture.drain() == 1)
            let refused = try await fixture.row("SELECT inbox_id, error FROM ocpp.inbox_refusals")
            #expect(refused["inbox_id"] == .integer(ids[0]))
            #expect(refused["error"]?.string?.contains("no_faults") == true)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.inbox_pending") == 0)

            // The operator removes the cause, then requeues the row.
            try await fixture.client.query(
                "ALTER TABLE ocpp.connectors DROP CONSTRAINT no_faults", logger: TestDatabase.logger)
            let copy: Int64 = try await fixture.client.scalar("SELECT ocpp.requeue_refused(\(ids[0]))")
            #expect(copy > ids[0])
            #expect(try await fixture.drain() == 1)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.inbox_refusals") == 0)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.connectors WHERE status = 'Faulted'") == 1)
        }
    }

    private static func insertHeartbeat(station: Int64, on connection: PostgresConnection) async throws -> Int64 {
        let rows = try await connection.query(
            """
            INSERT INTO ocpp.inbox (gateway_id, station_id, kind, action, message_id, payload, response)
            VALUES ('slow-gateway', \(station), 'call', 'Heartbeat', 'early', '{}', '{}') RETURNING id
            """, logger: TestDatabase.logger
        ).collect()
        return try rows[0].decode(Int64.self)
    }

    /// Each journal row's physical version: its place and the transaction that wrote it.
    private static func rowVersions(_ client: PostgresClient) async throws -> [String] {
        let rows = try await client.query(
            "SELECT id::text || ' ' || ctid::text || ' ' || xmin::text FROM ocpp.inbox ORDER BY id",
            logger: TestDatabase.logger)
        var versions: [String] = []
        for try await version in rows.decode(String.self) { versions.append(version) }
        return versions
    }
}
