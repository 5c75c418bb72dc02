import CoreMetrics
import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared
import Synchronization
import TestSupport
import Testing

@testable import Worker

/// The worker's periodic jobs, each run once (`MaintenanceJob.runOnce`) against a
/// fresh database, as `MaintenanceService` runs them on their intervals.
@Suite("Maintenance jobs")
struct MaintenanceTests {
    @Test("partitions: made ahead, dropped after retention, but never with an unprocessed work row")
    func partitions() async throws {
        try await InboxFixture.withFixture { fixture in
            let client = fixture.client
            // On TimescaleDB the extension's own policies manage chunks.
            guard try await Self.storagePath(client) == "plain" else { return }
            // Two stations in two buckets: one applied, one lagging.
            let applied = try await fixture.station("CP-1")
            let lagging = try await fixture.station("CP-2")
            try await client.query("SELECT ocpp.configure_retention(3, 2)", logger: TestDatabase.logger)
            // Days 10 to 8 ago, as a worker stopped for a while leaves them, and 2 days ago.
            for (table, column) in [("meter_values", "sampled_at"), ("inbox", "received_at")] {
                _ = try await client.query(
                    """
                    SELECT ocpp.create_partitions(\(table), \(column), interval '1 day', now() - interval '10 days',
                                                  now() - interval '8 days'),
                           ocpp.create_partitions(\(table), \(column), interval '1 day', now() - interval '2 days',
                                                  now() - interval '2 days')
                    """, logger: TestDatabase.logger
                ).collect()
            }
            let day = 86_400.0
            let heartbeat = { (age: Double) in InboxFixture.Row.call("Heartbeat", "{}", receivedAt: Date() - age) }
            let pending = try await fixture.insert([heartbeat(9 * day), heartbeat(20 * day)], station: lagging)
            let done = try await fixture.insert([heartbeat(10 * day), heartbeat(20 * day)], station: applied)
            // Only the rows 9 days old (in a partition) and 20 days old (in DEFAULT) stay pending.
            try await fixture.markApplied(through: done[1])

            try await Self.settings { $0.partitionsAheadDays = 10 }.partitionsJob.runOnce(
                client: client, logger: TestDatabase.logger)

            let meterDays = try await Self.partitionDays("meter_values", client)
            #expect(meterDays.isSuperset(of: [-2, -1, 0, 1, 10]), "kept and made ahead: \(meterDays.sorted())")
            #expect(meterDays.isDisjoint(with: [-10, -9, -8]), "dropped after 3 days: \(meterDays.sorted())")
            let inboxDays = try await Self.partitionDays("inbox", client)
            #expect(inboxDays.isSuperset(of: [-2, -1, 0, 10]), "kept and made ahead: \(inboxDays.sorted())")
            #expect(inboxDays.contains(-9), "holds an unprocessed row: \(inboxDays.sorted())")
            #expect(inboxDays.isDisjoint(with: [-10, -8]), "processed or empty, dropped: \(inboxDays.sorted())")
            #expect(try await Self.inboxIDs(client) == pending, "pending rows kept, in DEFAULT too")

            // Once applied, the old rows go with the next run.
            try await fixture.drain()
            try await Self.settings().partitionsJob.runOnce(client: client, logger: TestDatabase.logger)
            #expect(try await !Self.partitionDays("inbox", client).contains(-9))
            #expect(try await Self.inboxIDs(client) == [])
        }
    }

    @Test("pruning: status history and station events past retention go, receipts past theirs go")
    func pruning() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            try await Self.insertEventsAndReceipts(station: station, fixture.client)
            let settings = try Self.settings {
                $0.eventRetentionDays = 30
                $0.receiptRetentionDays = 3
            }
            try await settings.pruningJob.runOnce(client: fixture.client, logger: TestDatabase.logger)

            let kept = try await Self.eventsAndReceipts(fixture.client)
            #expect(kept.statuses == ["Charging"], "31 days old deleted, 29 days old kept")
            #expect(kept.events == ["new"])
            #expect(kept.receipts == ["new"], "4 days old deleted, 2 days old kept")
        }
    }

    @Test("pruning: event retention 0 keeps history forever, receipts are still pruned")
    func pruningKeepsEventsForever() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            try await Self.insertEventsAndReceipts(station: station, fixture.client)
            let settings = try Self.settings {
                $0.eventRetentionDays = 0
                $0.receiptRetentionDays = 3
            }
            try await settings.pruningJob.runOnce(client: fixture.client, logger: TestDatabase.logger)

            let kept = try await Self.eventsAndReceipts(fixture.client)
            #expect(kept.statuses == ["Available", "Charging"])
            #expect(kept.events == ["new", "old"])
            #expect(kept.receipts == ["new"])
        }
    }

    @Test("archive: values older than archiveAfterDays copied once, newer ones not, late ones on the next run")
    func archive() async throws {
        try await InboxFixture.withFixture { fixture in
            let client = fixture.client
            let station = try await fixture.station("CP-1")
            // 10 days old (two measurands), 2 days old.
            try await Self.insertMeterValue(
                station: station, ageHours: 240, measurand: "Energy.Active.Import.Register", client)
            try await Self.insertMeterValue(station: station, ageHours: 240, measurand: "Power.Active.Import", client)
            try await Self.insertMeterValue(
                station: station, ageHours: 48, measurand: "Energy.Active.Import.Register", client)
            let job = try Self.settings { $0.archiveAfterDays = 7 }.archiveJob

            try await job.runOnce(client: client, logger: TestDatabase.logger)
            #expect(try await Self.archivedAgeHours(client) == [240, 240])
            #expect(try await Self.archiveDiffersFromSource(client) == 0, "copied as they are")

            try await job.runOnce(client: client, logger: TestDatabase.logger)
            #expect(try await Self.archivedAgeHours(client) == [240, 240], "a second run copies nothing more")

            // A value that arrives late, just before the threshold (7.5 days old), is taken by the next run.
            try await Self.insertMeterValue(station: station, ageHours: 180, measurand: "Voltage", client)
            try await job.runOnce(client: client, logger: TestDatabase.logger)
            #expect(try await Self.archivedAgeHours(client) == [240, 240, 180])
        }
    }

    @Test("rollup: hours that received applied meter values are computed into meter_values_hourly")
    func rollup() async throws {
        try await InboxFixture.withFixture { fixture in
            let client = fixture.client
            // On TimescaleDB meter_values_hourly is a continuous aggregate the extension refreshes.
            guard try await Self.storagePath(client) == "plain" else { return }
            let station = try await fixture.station("CP-1")
            let hour = (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600 - 2 * 3600
            let sample = { (minute: Double, energy: Int, power: Int?) in
                Self.meterValuesRow(at: Date(timeIntervalSince1970: hour + minute * 60), energy: energy, power: power)
            }
            try await fixture.insert(
                [sample(10, 1000, 7000), sample(20, 1500, 7400), sample(50, 2500, nil)], station: station)
            try await fixture.drain()
            #expect(try await Self.hourly(client).isEmpty, "nothing before the job runs")

            let job = MaintenanceJobs.rollup(interval: .seconds(300))
            try await job.runOnce(client: client, logger: TestDatabase.logger)
            let bucket = Date(timeIntervalSince1970: hour)
            #expect(
                try await Self.hourly(client) == [
                    HourlyRow(
                        bucket: bucket, measurand: "Energy.Active.Import.Register", samples: 3, min: 1000,
                        max: 2500, last: 2500, energyDelta: 1500),
                    HourlyRow(
                        bucket: bucket, measurand: "Power.Active.Import", samples: 2, min: 7000, max: 7400,
                        last: 7400, energyDelta: nil),
                ])
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.meter_values_stale_hours", as: Int.self) == 0)

            // A late value marks its hour stale again; the next run recomputes it.
            try await fixture.insert([sample(55, 2600, nil)], station: station)
            try await fixture.drain()
            try await job.runOnce(client: client, logger: TestDatabase.logger)
            let energy = try await Self.hourly(client).first
            #expect(energy?.samples == 4 && energy?.energyDelta == 1600)
        }
    }

    @Test("dead gateways: their sessions end with a disconnect row, the station goes offline, live ones stay")
    func deadGateways() async throws {
        try await InboxFixture.withFixture { fixture in
            let client = fixture.client
            let dead = try await fixture.station("CP-DEAD")
            let live = try await fixture.station("CP-LIVE")
            _ = try await client.query(
                """
                INSERT INTO ocpp.gateways (gateway_id, heartbeat_at)
                VALUES ('gw-dead', now() - interval '5 minutes'), ('gw-live', now())
                """, logger: TestDatabase.logger
            ).collect()
            let deadSession = try await Self.connect(station: dead, gateway: "gw-dead", fixture)
            let liveSession = try await Self.connect(station: live, gateway: "gw-live", fixture)
            try await fixture.drain()
            #expect(try await Self.isOnline(dead, client))
            #expect(try await Self.isOnline(live, client))

            let job = MaintenanceJobs.deadGateways(timeout: .seconds(60), metrics: WorkerMetrics())
            try await job.runOnce(client: client, logger: TestDatabase.logger)

            #expect(try await Self.gateways(client) == ["gw-live"])
            #expect(try await Self.sessions(client) == [liveSession.id])
            let disconnects: Int = try await client.scalar(
                """
                SELECT count(*) FROM ocpp.inbox
                WHERE kind = 'disconnected' AND station_id = \(dead) AND id IN (SELECT id FROM ocpp.inbox_pending)
                  AND (payload->>'sessionId')::uuid = \(deadSession.id)
                  AND (payload->>'connectedAt')::timestamptz = \(deadSession.connectedAt)::timestamptz
                """)
            #expect(disconnects == 1, "one disconnect row, naming the dead session")
            #expect(
                try await client.scalar("SELECT count(*) FROM ocpp.inbox WHERE kind = 'disconnected'", as: Int.self)
                    == 1)

            try await fixture.drain()
            #expect(try await !Self.isOnline(dead, client), "offline once the disconnect row is applied")
            #expect(try await Self.isOnline(live, client))
        }
    }

    @Test("lag: the age of the oldest unprocessed row is recorded, 0 once drained")
    func lag() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            try await fixture.insert([.call("Heartbeat", "{}", receivedAt: Date() - 60)], station: station)
            try await fixture.insert([.call("Heartbeat", "{}", receivedAt: Date() - 5)], station: station)
            let recorded = RecordingMetrics()
            let job = MaintenanceJobs.lag(metrics: withMetricsFactory(recorded) { WorkerMetrics() })

            try await job.runOnce(client: fixture.client, logger: TestDatabase.logger)
            let lag = try #require(recorded.values(of: "ocpp_worker_lag_seconds").last)
            #expect(lag >= 60 && lag < 3600, "the oldest row's age: \(lag)")

            try await fixture.drain()
            try await job.runOnce(client: fixture.client, logger: TestDatabase.logger)
            #expect(recorded.values(of: "ocpp_worker_lag_seconds").last == 0)
        }
    }

    @Test("an exclusive job skips its round while another worker holds it")
    func exclusiveJobSkips() async throws {
        try await InboxFixture.withFixture { fixture in
            let client = fixture.client
            _ = try await client.query(
                "INSERT INTO ocpp.meter_values_stale_hours VALUES (date_trunc('hour', now()) - interval '1 hour')",
                logger: TestDatabase.logger
            ).collect()
            let rollup = MaintenanceJobs.rollup(interval: .seconds(300))
            // Another worker in the middle of the rollup: same name, so the same lock.
            let (entered, enteredContinuation) = AsyncStream<Void>.makeStream()
            let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
            let holder = MaintenanceJob(name: rollup.name, interval: rollup.interval, exclusive: true) { _, _ in
                enteredContinuation.yield()
                for await _ in release { break }
            }
            let holding = Task { try await holder.runOnce(client: client, logger: TestDatabase.logger) }
            defer { releaseContinuation.finish() }
            var iterator = entered.makeAsyncIterator()
            _ = await iterator.next()

            // The pool hands this run another connection: another session, as another worker has.
            try await rollup.runOnce(client: client, logger: TestDatabase.logger)
            #expect(try await Self.staleHours(client) == 1, "skipped while the other holds the lock")

            releaseContinuation.yield()
            try await holding.value
            try await rollup.runOnce(client: client, logger: TestDatabase.logger)
            #expect(try await Self.staleHours(client) == 0, "runs once the lock is free")
        }
    }

    /// Lag only reads, and expiring commands is one UPDATE that any number of
    /// workers may run at once; every other job must not overlap.
    @Test("every job but lag and command expiry is exclusive, each with its own lock")
    func jobLocks() throws {
        let jobs = MaintenanceJobs.all(settings: try Self.settings(), metrics: WorkerMetrics())
        #expect(jobs.filter { !$0.exclusive }.map(\.name) == ["lag", "command-expiry"])
        #expect(Set(jobs.map(\.lockKey)).count == jobs.count)
    }
}
