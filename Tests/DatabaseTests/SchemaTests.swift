import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@Suite("Schema keys and the plain path's partitions")
struct SchemaTests {
    @Test func partitionsAreCreatedAheadAndDroppedAfterRetention() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let now = Date()
            let day = try await client.scalar(
                "SELECT to_char(\(now)::timestamptz AT TIME ZONE 'UTC', 'YYYYMMDD')", as: String.self)
            for table in ["meter_values", "inbox"] {
                #expect(
                    try await client.scalar("SELECT to_regclass(\("ocpp.\(table)_p\(day)")) IS NOT NULL", as: Bool.self)
                )
            }
            // A sample 40 days old lands in the DEFAULT partition; making its day's
            // partition moves it there, and retention (30 days) then drops it.
            let old = now.addingTimeInterval(-40 * 86_400)
            try await client.query(
                "INSERT INTO ocpp.meter_values (sampled_at, station_id, connector_id, value) VALUES (\(old), 1, 1, 5)")
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.meter_values_default", as: Int.self) == 1)
            let created = try await client.scalar(
                "SELECT ocpp.create_partitions('meter_values', 'sampled_at', interval '1 day', \(old), \(old))",
                as: Int.self)
            #expect(created == 1)
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.meter_values_default", as: Int.self) == 0)
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.meter_values", as: Int.self) == 1)

            let rows = try await client.query("SELECT created, dropped FROM ocpp.maintain_partitions(\(now), 7)")
            for try await (_, dropped) in rows.decode((Int, Int).self) {
                #expect(dropped == 1)
            }
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.meter_values", as: Int.self) == 0)
            #expect(
                try await client.scalar("SELECT to_regclass(\("ocpp.meter_values_p\(day)")) IS NOT NULL", as: Bool.self)
            )
        }
    }

    @Test func retransmissionReceiptsAreUniquePerStationActionAndContent() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            try await DemoData.seed(client: client, logger: TestDatabase.logger)
            let digest = ByteBuffer(bytes: [1, 2, 3])
            let insert: PostgresQuery = """
                INSERT INTO ocpp.inbox_receipts (station_id, action, payload_digest)
                SELECT id, 'MeterValues', \(digest) FROM ocpp.stations ON CONFLICT DO NOTHING RETURNING 1
                """
            #expect(try await client.query(insert).collect().count == 1)
            #expect(try await client.query(insert).collect().count == 0)
            // Another payload is another message, whatever its unique id.
            let other: PostgresQuery = """
                INSERT INTO ocpp.inbox_receipts (station_id, action, payload_digest)
                SELECT id, 'MeterValues', \(ByteBuffer(bytes: [9])) FROM ocpp.stations
                ON CONFLICT DO NOTHING RETURNING 1
                """
            #expect(try await client.query(other).collect().count == 1)
        }
    }

    @Test func theSameStartGetsTheSameTransactionID() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            try await DemoData.seed(client: client, logger: TestDatabase.logger)
            let startedAt = Date(timeIntervalSince1970: 1_714_557_600)
            func allocate(meterStart: Int) async throws -> Int {
                try await client.scalar(
                    """
                    WITH inserted AS (
                        INSERT INTO ocpp.transaction_starts (station_id, connector_id, id_tag, started_at, meter_start)
                        SELECT id, 1, 'DEMO-TAG-1', \(startedAt), \(meterStart) FROM ocpp.stations
                        ON CONFLICT DO NOTHING RETURNING transaction_id
                    )
                    SELECT transaction_id FROM inserted
                    UNION ALL
                    SELECT transaction_id FROM ocpp.transaction_starts
                    WHERE connector_id = 1 AND id_tag = 'DEMO-TAG-1' AND started_at = \(startedAt)
                      AND meter_start = \(meterStart)
                    LIMIT 1
                    """, as: Int.self)
            }
            let first = try await allocate(meterStart: 100)
            #expect(try await allocate(meterStart: 100) == first)
            #expect(try await allocate(meterStart: 200) != first)
        }
    }

    /// No sample-level key: two samples are two rows however much they share (replays
    /// are the journal's business). The archive copy, which runs over overlapping
    /// windows, still copies each message's samples once.
    @Test func everySampleIsARowAndTheArchiveCopiesEachOnce() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let sampledAt = Date()
            let insert: PostgresQuery = """
                INSERT INTO ocpp.meter_values (sampled_at, station_id, connector_id, measurand, value)
                VALUES (\(sampledAt), 1, 1, 'Energy.Active.Import.Register', 42) RETURNING 1
                """
            #expect(try await client.query(insert).collect().count == 1)
            #expect(try await client.query(insert).collect().count == 1)
            #expect(
                try await client.scalar(
                    "SELECT ocpp.archive_meter_values(\(sampledAt.addingTimeInterval(-1)), \(sampledAt.addingTimeInterval(1)))",
                    as: Int.self) == 2)
            #expect(
                try await client.scalar(
                    "SELECT ocpp.archive_meter_values(\(sampledAt.addingTimeInterval(-1)), \(sampledAt.addingTimeInterval(1)))",
                    as: Int.self) == 0)
        }
    }

    @Test func theHourlyRollupAggregatesNumericSamples() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let hour = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600 - 3600)
            for (offset, value) in [(60.0, 1000.0), (1800, 1500), (3540, 2500)] {
                try await client.query(
                    """
                    INSERT INTO ocpp.meter_values (sampled_at, station_id, connector_id, value)
                    VALUES (\(hour.addingTimeInterval(offset)), 1, 1, \(value))
                    """)
            }
            #expect(
                try await client.scalar(
                    "SELECT ocpp.refresh_meter_values_hourly(\(hour), \(hour.addingTimeInterval(3600)))", as: Int.self)
                    == 1)
            let rows = try await client.query(
                "SELECT min_value, max_value, last_value, energy_delta, sample_count FROM ocpp.meter_values_hourly")
            for try await (minimum, maximum, last, delta, count) in rows.decode(
                (Double, Double, Double, Double, Int).self)
            {
                #expect(minimum == 1000)
                #expect(maximum == 2500)
                #expect(last == 2500)
                #expect(delta == 1500)
                #expect(count == 3)
            }
        }
    }
}
