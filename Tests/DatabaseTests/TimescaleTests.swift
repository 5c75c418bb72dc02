import Foundation
import PostgresNIO
import TestSupport
import Testing

/// The environment variable naming a TimescaleDB server for ``TimescaleTests``.
let timescaleServerVariable = "OCPP_TEST_TIMESCALE_URL"

/// The TimescaleDB path, on the server `OCPP_TEST_TIMESCALE_URL` names (TimescaleDB
/// installed and in `shared_preload_libraries`). Skipped without it: CI's PostgreSQL
/// has no TimescaleDB. docs/DATABASE.md says how to run them.
@Suite(
    "TimescaleDB path", .serialized, .timeLimit(.minutes(2)),
    .enabled(if: ProcessInfo.processInfo.environment[timescaleServerVariable] != nil))
struct TimescaleTests {
    static func withMigratedDatabase(_ body: @Sendable (PostgresClient) async throws -> Void) async throws {
        try await TestDatabase.withFreshDatabase(serverVariable: timescaleServerVariable) { client, _ in
            _ = try await TestDatabase.migrate(client)
            #expect(try await client.scalar("SELECT ocpp.storage_path()", as: String.self) == "timescaledb")
            try await body(client)
        }
    }

    /// The job of the raw meter values' retention policy (nil: none).
    static func retentionJob(_ client: PostgresClient) async throws -> (id: Int32, dropAfter: String)? {
        let rows = try await client.query(
            """
            SELECT job_id, config ->> 'drop_after' FROM timescaledb_information.jobs
            WHERE proc_name = 'policy_retention' AND hypertable_schema = 'ocpp' AND hypertable_name = 'meter_values'
            """, logger: TestDatabase.logger)
        for try await (id, dropAfter) in rows.decode((Int32, String).self) { return (id, dropAfter) }
        return nil
    }

    @Test("a worker start with the same setting keeps the retention job and its history")
    func retentionPolicyIsKept() async throws {
        try await Self.withMigratedDatabase { client in
            try await client.query("SELECT ocpp.configure_retention(30, 14)", logger: TestDatabase.logger)
            let first = try #require(try await Self.retentionJob(client))
            try await client.query("SELECT ocpp.configure_retention(30, 14)", logger: TestDatabase.logger)
            #expect(try await Self.retentionJob(client)?.id == first.id)
            // A changed setting changes the policy; 0 removes it.
            try await client.query("SELECT ocpp.configure_retention(60, 14)", logger: TestDatabase.logger)
            let changed = try #require(try await Self.retentionJob(client))
            #expect(changed.id != first.id)
            #expect(changed.dropAfter == "60 days")
            try await client.query("SELECT ocpp.configure_retention(0, 14)", logger: TestDatabase.logger)
            #expect(try await Self.retentionJob(client) == nil)
        }
    }

    @Test("the hourly view holds the current hour without waiting for a refresh")
    func newestHourIsInTheHourlyView() async throws {
        try await Self.withMigratedDatabase { client in
            let station = try await client.scalar(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-TSDB', 'Accepted') RETURNING id",
                as: Int64.self)
            try await client.query(
                """
                INSERT INTO ocpp.meter_values (sampled_at, station_id, connector_id, measurand, value)
                VALUES (now(), \(station), 1, 'Energy.Active.Import.Register', 1000),
                       (now(), \(station), 1, 'Energy.Active.Import.Register', 1500)
                """, logger: TestDatabase.logger)
            let samples = try await client.scalar(
                """
                SELECT coalesce(sum(sample_count), 0)::bigint FROM ocpp.meter_values_hourly
                WHERE station_id = \(station) AND bucket = time_bucket(INTERVAL '1 hour', now())
                """, as: Int64.self)
            #expect(samples == 2)
        }
    }

    @Test("stale hours before the policy's window are listed for the worker's refresh, none past retention")
    func lateHoursAreListed() async throws {
        try await Self.withMigratedDatabase { client in
            // Raw values kept 7 days; the policy refreshes the last 3.
            try await client.query("SELECT ocpp.configure_retention(7, 14)", logger: TestDatabase.logger)
            try await client.query(
                """
                INSERT INTO ocpp.meter_values_stale_hours
                SELECT date_trunc('hour', now()) - hours * interval '1 hour' FROM unnest(ARRAY[1, 48, 120, 240]) AS hours
                """, logger: TestDatabase.logger)
            #expect(try await client.scalar("SELECT ocpp.refresh_stale_hours(now())", as: Int32.self) == 4)
            let late = try await client.scalar(
                """
                SELECT array_agg(round(extract(epoch FROM date_trunc('hour', now()) - bucket) / 3600)::integer
                                 ORDER BY bucket)
                FROM ocpp.meter_values_late_hours
                """, as: [Int32].self)
            #expect(late == [120], "1 and 48 hours old: the policy's; 240: past retention")
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.meter_values_stale_hours", as: Int64.self) == 0)
        }
    }
}
