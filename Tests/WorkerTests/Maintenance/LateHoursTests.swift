import Foundation
import OCPP
import PostgresNIO
import TestSupport
import Testing

@testable import Worker

/// Meter values that arrive days late reach the hourly rollup (issue 21, point 4 a):
/// the plain path recomputes their hours, the TimescaleDB path refreshes the
/// continuous aggregate over them with a top-level CALL (``LateHours``).
@Suite("Late meter values and the hourly rollup")
struct LateHoursTests {
    /// The start of the hour `hoursAgo` hours before the current one.
    static func hourStart(_ hoursAgo: Int) -> Date {
        Date(
            timeIntervalSince1970: (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600 - Double(hoursAgo) * 3600
        )
    }

    static func lateHours(_ client: PostgresClient) async throws -> [Date] {
        let rows = try await client.query(
            "SELECT bucket FROM ocpp.meter_values_late_hours ORDER BY bucket", logger: TestDatabase.logger)
        return try await rows.collect().map { try $0.decode(Date.self) }
    }

    /// Advisory locks held in this test's database (pg_locks shows the whole server).
    static func advisoryLocks(_ client: PostgresClient) async throws -> Int {
        try await client.scalar(
            """
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """)
    }

    @Test("adjacent hours make one range, a gap starts another")
    func ranges() {
        let hour = { (index: Double) in Date(timeIntervalSince1970: 1_700_000_000 + index * 3600) }
        #expect(LateHours.ranges(of: []) == [])
        #expect(
            LateHours.ranges(of: [hour(0), hour(1), hour(2), hour(5), hour(7), hour(8)]) == [
                hour(0)..<hour(3), hour(5)..<hour(6), hour(7)..<hour(9),
            ])
    }

    @Test("plain path: an hour whose values arrive 10 days late is recomputed")
    func plainRecomputesLateHours() async throws {
        try await InboxFixture.withFixture { fixture in
            let client = fixture.client
            guard try await MaintenanceTests.storagePath(client) == "plain" else { return }
            let station = try await fixture.station("CP-1")
            let hour = Self.hourStart(240)
            let job = MaintenanceJobs.rollup(interval: .seconds(300))
            try await fixture.insert(
                [MaintenanceTests.meterValuesRow(at: hour + 600, energy: 1000, power: nil)], station: station)
            try await fixture.drain()
            try await job.runOnce(client: client, logger: TestDatabase.logger)
            #expect(try await MaintenanceTests.hourly(client).map(\.samples) == [1])

            try await fixture.insert(
                [MaintenanceTests.meterValuesRow(at: hour + 3000, energy: 1600, power: nil)], station: station)
            try await fixture.drain()
            try await job.runOnce(client: client, logger: TestDatabase.logger)
            let rows = try await MaintenanceTests.hourly(client)
            #expect(rows.map(\.bucket) == [hour])
            #expect(rows.first?.samples == 2 && rows.first?.energyDelta == 600)
            #expect(try await MaintenanceTests.staleHours(client) == 0)
            #expect(try await Self.lateHours(client) == [], "the plain path lists no late hours")
        }
    }

    /// TimescaleDB's procedure is not on this server, so a stand-in with its
    /// signature records the calls. Like the real one it commits inside (which fails
    /// when called in a transaction block), and it fails for one chosen window.
    @Test("late hours: one top-level CALL per run of adjacent hours, forgotten once refreshed, kept when it fails")
    func refreshCalls() async throws {
        try await InboxFixture.withFixture { fixture in
            let client = fixture.client
            guard try await MaintenanceTests.storagePath(client) == "plain" else { return }
            let failing = Self.hourStart(300)
            _ = try await client.query(
                """
                CREATE TABLE public.refresh_calls (aggregate regclass, window_start timestamptz, window_end timestamptz)
                """, logger: TestDatabase.logger
            ).collect()
            _ = try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        CREATE PROCEDURE public.refresh_continuous_aggregate(aggregate regclass, window_start anyelement,
                                                                             window_end anyelement)
                        LANGUAGE plpgsql AS $$
                        BEGIN
                            INSERT INTO public.refresh_calls VALUES (aggregate, window_start, window_end);
                            COMMIT;
                            IF window_start = '\(RFC3339.format(failing))'::timestamptz THEN
                                RAISE EXCEPTION 'refresh failed';
                            END IF;
                        END
                        $$
                        """), logger: TestDatabase.logger
            ).collect()
            let hours = [Self.hourStart(242), Self.hourStart(241), Self.hourStart(240), Self.hourStart(200), failing]
            _ = try await client.query(
                "INSERT INTO ocpp.meter_values_late_hours SELECT unnest(\(hours))", logger: TestDatabase.logger
            ).collect()

            try await MaintenanceJobs.rollup(interval: .seconds(300)).runOnce(
                client: client, logger: TestDatabase.logger)

            let rows = try await client.query(
                "SELECT aggregate::text, window_start, window_end FROM public.refresh_calls ORDER BY window_start",
                logger: TestDatabase.logger)
            let calls = try await rows.collect().map { try $0.decode((String, Date, Date).self) }
            #expect(
                calls.map(\.0) == ["ocpp.meter_values_hourly", "ocpp.meter_values_hourly", "ocpp.meter_values_hourly"])
            #expect(
                calls.map { $0.1..<$0.2 } == [
                    failing..<(failing + 3600), Self.hourStart(242)..<Self.hourStart(239),
                    Self.hourStart(200)..<Self.hourStart(199),
                ])
            #expect(try await Self.lateHours(client) == [failing], "the failed range stays listed")
            #expect(try await Self.advisoryLocks(client) == 0, "the session lock is released")
        }
    }

    @Test("rollup in autocommit: skipped while another worker holds its session lock, which a failed run releases")
    func sessionLock() async throws {
        try await InboxFixture.withFixture { fixture in
            let client = fixture.client
            _ = try await client.query(
                "INSERT INTO ocpp.meter_values_stale_hours VALUES (date_trunc('hour', now()) - interval '1 hour')",
                logger: TestDatabase.logger
            ).collect()
            let rollup = MaintenanceJobs.rollup(interval: .seconds(300))
            let (entered, enteredContinuation) = AsyncStream<Void>.makeStream()
            let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
            // Another worker's rollup, which fails once released.
            let holder = MaintenanceJob(
                name: rollup.name, interval: rollup.interval, exclusive: true, inTransaction: false
            ) { _, _ in
                enteredContinuation.yield()
                for await _ in release { break }
                throw CancellationError()
            }
            let holding = Task { try await holder.runOnce(client: client, logger: TestDatabase.logger) }
            defer { releaseContinuation.finish() }
            var iterator = entered.makeAsyncIterator()
            _ = await iterator.next()

            try await rollup.runOnce(client: client, logger: TestDatabase.logger)
            #expect(try await MaintenanceTests.staleHours(client) == 1, "skipped while the other holds the lock")
            #expect(try await Self.advisoryLocks(client) == 1)

            releaseContinuation.yield()
            await #expect(throws: CancellationError.self) { try await holding.value }
            #expect(try await Self.advisoryLocks(client) == 0, "released after the failure")
            try await rollup.runOnce(client: client, logger: TestDatabase.logger)
            #expect(try await MaintenanceTests.staleHours(client) == 0, "runs once the lock is free")
        }
    }
}

/// The same on TimescaleDB, on the server `OCPP_TEST_TIMESCALE_URL` names (see
/// docs/DATABASE.md; skipped without it, as CI has no TimescaleDB).
@Suite(
    "Late meter values on TimescaleDB", .serialized, .timeLimit(.minutes(2)),
    .enabled(if: ProcessInfo.processInfo.environment["OCPP_TEST_TIMESCALE_URL"] != nil))
struct LateHoursTimescaleTests {
    @Test("a value sampled 10 days ago reaches the continuous aggregate with the next rollup")
    func lateValueReachesTheAggregate() async throws {
        try await TestDatabase.withFreshDatabase(serverVariable: "OCPP_TEST_TIMESCALE_URL") { client, _ in
            _ = try await TestDatabase.migrate(client)
            #expect(try await MaintenanceTests.storagePath(client) == "timescaledb")
            let fixture = InboxFixture(client: client)
            let station = try await fixture.station("CP-1")
            let hour = LateHoursTests.hourStart(240)
            let job = MaintenanceJobs.rollup(interval: .seconds(300))
            try await fixture.insert(
                [MaintenanceTests.meterValuesRow(at: hour + 600, energy: 1000, power: nil)], station: station)
            try await fixture.drain()
            try await job.runOnce(client: client, logger: TestDatabase.logger)
            // Materialized up to the current hour, as the policy leaves it: from here
            // on the view answers that hour from the materialization alone.
            _ = try await client.query(
                "CALL refresh_continuous_aggregate('ocpp.meter_values_hourly', NULL, date_trunc('hour', now()))",
                logger: TestDatabase.logger
            ).collect()
            #expect(try await MaintenanceTests.hourly(client).map(\.samples) == [1])

            try await fixture.insert(
                [MaintenanceTests.meterValuesRow(at: hour + 3000, energy: 1600, power: nil)], station: station)
            try await fixture.drain()
            #expect(try await MaintenanceTests.hourly(client).map(\.samples) == [1], "not there before the rollup")
            try await job.runOnce(client: client, logger: TestDatabase.logger)

            let rows = try await MaintenanceTests.hourly(client)
            #expect(rows.map(\.bucket) == [hour])
            #expect(rows.first?.samples == 2 && rows.first?.energyDelta == 600)
            #expect(try await MaintenanceTests.staleHours(client) == 0)
            #expect(try await LateHoursTests.lateHours(client) == [], "forgotten once refreshed")
        }
    }
}
