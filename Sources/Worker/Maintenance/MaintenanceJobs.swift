import CoreMetrics
import Logging
import PostgresNIO
import Shared

/// The worker's periodic jobs, from its settings.
enum MaintenanceJobs {
    static func all(settings: WorkerSettings, metrics: WorkerMetrics) -> [MaintenanceJob] {
        [
            lag(metrics: metrics),
            commandExpiry(),
            deadGateways(timeout: settings.gatewayTimeout, metrics: metrics),
            rollup(interval: settings.rollupInterval),
            partitions(settings: settings),
            archive(settings: settings),
            pruning(settings: settings),
        ]
    }

    /// Age of the oldest work row not applied yet (each bucket's next), every 5 seconds.
    static func lag(metrics: WorkerMetrics) -> MaintenanceJob {
        MaintenanceJob(name: "lag", interval: .seconds(5), exclusive: false) { connection, logger in
            let rows = try await connection.query(
                """
                SELECT coalesce(extract(epoch FROM now() - min(first.received_at))::double precision, 0)
                FROM ocpp.inbox_buckets AS b
                CROSS JOIN LATERAL (
                    SELECT i.received_at FROM ocpp.inbox AS i
                    WHERE ocpp.inbox_bucket(i.station_id) = b.bucket AND i.txid IS NOT NULL
                      AND (i.txid, i.id) > (b.cursor_txid, b.cursor_id)
                    ORDER BY i.txid, i.id LIMIT 1
                ) AS first
                """, logger: logger)
            for try await seconds in rows.decode(Double.self) { metrics.lag.record(seconds) }
        }
    }

    /// Queued commands still pending past their expiry are marked expired, every 5
    /// seconds (an operator follows a command's fate in `station_messages`).
    static func commandExpiry() -> MaintenanceJob {
        MaintenanceJob(name: "command-expiry", interval: .seconds(5), exclusive: false) { connection, logger in
            let rows = try await connection.query("SELECT ocpp.expire_calls(now())", logger: logger)
            for try await expired in rows.decode(Int64.self) where expired > 0 {
                logger.info("\(expired) queued command(s) expired before delivery")
            }
        }
    }

    /// Sessions held by a gateway whose heartbeat is older than `timeout` end: the
    /// session rows and the gateway row go, and a disconnect work row is written for
    /// each session, so the station is no longer shown online (the gateway crashed).
    static func deadGateways(timeout: Duration, metrics: WorkerMetrics) -> MaintenanceJob {
        let seconds = Int(timeout.components.seconds)
        let interval = max(Duration.seconds(1), timeout / 4)
        return MaintenanceJob(name: "dead-gateways", interval: interval, exclusive: true) { connection, logger in
            let rows = try await connection.query(
                """
                WITH dead AS (
                    SELECT gateway_id FROM ocpp.gateways
                    WHERE heartbeat_at < now() - make_interval(secs => \(seconds))
                    FOR UPDATE SKIP LOCKED
                ), ended AS (
                    DELETE FROM ocpp.station_sessions AS s USING dead
                    WHERE s.gateway_id = dead.gateway_id
                    RETURNING s.station_id, s.gateway_id, s.session_id, s.connected_at
                ), journaled AS (
                    INSERT INTO ocpp.inbox (gateway_id, station_id, kind, payload)
                    SELECT gateway_id, station_id, 'disconnected',
                           json_build_object('sessionId', session_id, 'gatewayId', gateway_id,
                                             'connectedAt', connected_at, 'reason', 'gateway heartbeat lost')
                    FROM ended ORDER BY station_id
                    RETURNING 1
                ), removed AS (
                    DELETE FROM ocpp.gateways AS g USING dead WHERE g.gateway_id = dead.gateway_id RETURNING 1
                )
                SELECT (SELECT count(*) FROM journaled), (SELECT count(*) FROM removed),
                       (SELECT count(pg_notify('\(unescaped: InboxChannel.name)', 'sessions-expired')) FROM (SELECT 1 FROM journaled LIMIT 1) AS n)
                """, logger: logger)
            for try await (sessions, gateways, _) in rows.decode((Int64, Int64, Int64).self) where gateways > 0 {
                metrics.sessionsExpired.increment(by: Int(sessions))
                logger.warning("\(gateways) gateway(s) stopped their heartbeat: \(sessions) session(s) ended")
            }
        }
    }

    /// The hours that received meter values are recomputed (plain path). On
    /// TimescaleDB the continuous aggregate's policy refreshes its window and this
    /// refreshes the hours before it, whose values arrived late (``LateHours``): in
    /// autocommit, since the refresh refuses a transaction block.
    static func rollup(interval: Duration) -> MaintenanceJob {
        MaintenanceJob(name: "rollup", interval: interval, exclusive: true, inTransaction: false) {
            connection, logger in
            let rows = try await connection.query("SELECT ocpp.refresh_stale_hours(now())", logger: logger)
            for try await hours in rows.decode(Int32.self) where hours > 0 {
                logger.debug("rolled up \(hours) hour(s)")
            }
            try await LateHours.refresh(on: connection, logger: logger)
        }
    }

    /// Partitions ahead and retention of raw meter values and the inbox journal.
    static func partitions(settings: WorkerSettings) -> MaintenanceJob {
        MaintenanceJob(name: "partitions", interval: settings.maintenanceInterval, exclusive: true) {
            connection, logger in
            let rows = try await connection.query(
                "SELECT created, dropped FROM ocpp.maintain_partitions(now(), \(Int32(settings.partitionsAheadDays)))",
                logger: logger)
            for try await (created, dropped) in rows.decode((Int32, Int32).self) where created + dropped > 0 {
                logger.info("partitions: \(created) created, \(dropped) dropped")
            }
        }
    }

    /// Meter values older than the archive threshold are copied to the archive.
    static func archive(settings: WorkerSettings) -> MaintenanceJob {
        MaintenanceJob(name: "archive", interval: settings.maintenanceInterval, exclusive: true) {
            connection, logger in
            guard settings.archiveAfterDays > 0 else { return }
            let rows = try await connection.query(
                "SELECT ocpp.archive_due(now(), \(settings.archiveAfterDays) * interval '1 day')", logger: logger)
            for try await copied in rows.decode(Int64.self) where copied > 0 {
                logger.info("archived \(copied) meter value(s)")
            }
        }
    }

    /// Retransmission receipts, status history and station events past their retention.
    static func pruning(settings: WorkerSettings) -> MaintenanceJob {
        MaintenanceJob(name: "pruning", interval: settings.maintenanceInterval, exclusive: true) {
            connection, logger in
            try await connection.query(
                """
                DELETE FROM ocpp.inbox_receipts
                WHERE received_at < now() - \(settings.receiptRetentionDays) * interval '1 day'
                """, logger: logger)
            if settings.eventRetentionDays > 0 {
                _ = try await connection.query(
                    "SELECT ocpp.prune_events(now() - \(settings.eventRetentionDays) * interval '1 day')",
                    logger: logger
                ).collect()
            }
        }
    }
}
