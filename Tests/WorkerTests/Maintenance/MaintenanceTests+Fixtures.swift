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

// Fixtures of the maintenance job tests: settings, rows at given ages, and a
// metrics backend that records what the lag job reports.

// MARK: - Settings and jobs

extension MaintenanceTests {
    /// A worker's settings; the jobs read only their own fields.
    static func settings(_ configure: (inout WorkerSettings) -> Void = { _ in }) throws -> WorkerSettings {
        var settings = WorkerSettings(database: try TestDatabase.serverConfiguration, workerID: "maintenance-test")
        configure(&settings)
        return settings
    }

    static func storagePath(_ client: PostgresClient) async throws -> String {
        try await client.scalar("SELECT ocpp.storage_path()")
    }
}

extension WorkerSettings {
    var partitionsJob: MaintenanceJob { MaintenanceJobs.partitions(settings: self) }
    var pruningJob: MaintenanceJob { MaintenanceJobs.pruning(settings: self) }
    var archiveJob: MaintenanceJob { MaintenanceJobs.archive(settings: self) }
}

// MARK: - Partitions and inbox

extension MaintenanceTests {
    /// The days (relative to today, UTC) of `table`'s daily partitions.
    static func partitionDays(_ table: String, _ client: PostgresClient) async throws -> Set<Int> {
        let rows = try await client.query(
            """
            SELECT (substring(c.relname FROM '_p([0-9]{8})$')::date - (now() AT TIME ZONE 'UTC')::date)::bigint
            FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
            WHERE i.inhparent = format('ocpp.%I', \(table)::text)::regclass AND c.relname ~ '_p[0-9]{8}$'
            """, logger: TestDatabase.logger)
        return Set(try await rows.collect().map { try $0.decode(Int.self) })
    }

    static func inboxIDs(_ client: PostgresClient) async throws -> [Int64] {
        let rows = try await client.query("SELECT id FROM ocpp.inbox ORDER BY id", logger: TestDatabase.logger)
        return try await rows.collect().map { try $0.decode(Int64.self) }
    }

    static func staleHours(_ client: PostgresClient) async throws -> Int {
        try await client.scalar("SELECT count(*) FROM ocpp.meter_values_stale_hours")
    }
}

// MARK: - Events and receipts

extension MaintenanceTests {
    /// Status history and station events 31 ("old") and 29 ("new") days old, and
    /// receipts 4 ("old") and 2 ("new") days old.
    static func insertEventsAndReceipts(station: Int64, _ client: PostgresClient) async throws {
        _ = try await client.query(
            """
            WITH statuses AS (
                INSERT INTO ocpp.status_events (station_id, connector_id, status, error_code, status_at, received_at)
                VALUES (\(station), 1, 'Available', 'NoError', now() - interval '31 days', now() - interval '31 days'),
                       (\(station), 1, 'Charging', 'NoError', now() - interval '29 days', now() - interval '29 days')
            ), events AS (
                INSERT INTO ocpp.station_events (station_id, inbox_id, action, payload, received_at)
                VALUES (\(station), 1, 'DataTransfer', '{"messageId": "old"}', now() - interval '31 days'),
                       (\(station), 2, 'DataTransfer', '{"messageId": "new"}', now() - interval '29 days')
            )
            INSERT INTO ocpp.inbox_receipts (station_id, action, payload_digest, response, received_at)
            VALUES (\(station), 'MeterValues', convert_to('old', 'UTF8'), '{}', now() - interval '4 days'),
                   (\(station), 'MeterValues', convert_to('new', 'UTF8'), '{}', now() - interval '2 days')
            """, logger: TestDatabase.logger
        ).collect()
    }

    static func eventsAndReceipts(
        _ client: PostgresClient
    ) async throws -> (statuses: [String], events: [String], receipts: [String]) {
        (
            try await strings("SELECT status FROM ocpp.status_events ORDER BY status", client),
            try await strings("SELECT payload->>'messageId' FROM ocpp.station_events ORDER BY 1", client),
            try await strings(
                "SELECT convert_from(payload_digest, 'UTF8') FROM ocpp.inbox_receipts ORDER BY 1", client)
        )
    }

    static func strings(_ sql: String, _ client: PostgresClient) async throws -> [String] {
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger)
        return try await rows.collect().map { try $0.decode(String.self) }
    }
}

// MARK: - Meter values

extension MaintenanceTests {
    /// A raw meter value sampled `ageHours` ago, as the applier stores one.
    static func insertMeterValue(
        station: Int64, ageHours: Int, measurand: String, _ client: PostgresClient
    )
        async throws
    {
        _ = try await client.query(
            """
            INSERT INTO ocpp.meter_values (sampled_at, station_id, connector_id, measurand, value)
            VALUES (now() - \(Int32(ageHours)) * interval '1 hour', \(station), 1, \(measurand), 42)
            """, logger: TestDatabase.logger
        ).collect()
    }

    /// The age in hours of every archived value, oldest first.
    static func archivedAgeHours(_ client: PostgresClient) async throws -> [Int] {
        let rows = try await client.query(
            """
            SELECT round(extract(epoch FROM now() - sampled_at) / 3600)::bigint
            FROM ocpp.meter_values_archive ORDER BY sampled_at
            """, logger: TestDatabase.logger)
        return try await rows.collect().map { try $0.decode(Int.self) }
    }

    /// Archived rows that are not exactly a row of `meter_values`.
    static func archiveDiffersFromSource(_ client: PostgresClient) async throws -> Int {
        try await client.scalar(
            "SELECT count(*) FROM (SELECT * FROM ocpp.meter_values_archive EXCEPT SELECT * FROM ocpp.meter_values) AS d"
        )
    }

    /// A MeterValues work row with an energy register reading and, optionally, a power reading.
    static func meterValuesRow(at time: Date, energy: Int, power: Int?) -> InboxFixture.Row {
        var values = [#"{"value": "\#(energy)", "measurand": "Energy.Active.Import.Register"}"#]
        if let power { values.append(#"{"value": "\#(power)", "measurand": "Power.Active.Import", "unit": "W"}"#) }
        let payload = #"""
            {"connectorId": 1, "meterValue": [{"timestamp": "\#(RFC3339.format(time))", "sampledValue": [\#(values.joined(separator: ", "))]}]}
            """#
        return .call("MeterValues", payload, stationTime: time)
    }

    struct HourlyRow: Equatable, Sendable {
        var bucket: Date
        var measurand: String
        var samples: Int
        var min: Double
        var max: Double
        var last: Double
        var energyDelta: Double?
    }

    static func hourly(_ client: PostgresClient) async throws -> [HourlyRow] {
        let rows = try await client.query(
            """
            SELECT bucket, measurand, sample_count, min_value, max_value, last_value, energy_delta
            FROM ocpp.meter_values_hourly ORDER BY measurand, bucket
            """, logger: TestDatabase.logger)
        return try await rows.collect().map { row in
            let (bucket, measurand, samples, min, max, last, delta) = try row.decode(
                (Date, String, Int, Double, Double, Double, Double?).self)
            return HourlyRow(
                bucket: bucket, measurand: measurand, samples: samples, min: min, max: max, last: last,
                energyDelta: delta)
        }
    }
}

// MARK: - Sessions

extension MaintenanceTests {
    struct Session: Sendable {
        var id: UUID
        var connectedAt: String
    }

    /// What a gateway does when a station connects: the session row, then the
    /// `connected` work row with the session's id and start.
    static func connect(station: Int64, gateway: String, _ fixture: InboxFixture) async throws -> Session {
        let session = Session(id: UUID(), connectedAt: RFC3339.format(Date() - 120))
        _ = try await fixture.client.query(
            """
            INSERT INTO ocpp.station_sessions (station_id, gateway_id, session_id, connected_at)
            VALUES (\(station), \(gateway), \(session.id), \(session.connectedAt)::timestamptz)
            """, logger: TestDatabase.logger
        ).collect()
        let payload = """
            {"sessionId": "\(session.id.uuidString.lowercased())", "gatewayId": "\(gateway)", \
            "connectedAt": "\(session.connectedAt)"}
            """
        try await fixture.insert(
            [InboxFixture.Row(kind: "connected", messageID: nil, payload: payload, response: nil)], station: station)
        return session
    }

    static func isOnline(_ station: Int64, _ client: PostgresClient) async throws -> Bool {
        try await client.scalar("SELECT online FROM ocpp.stations WHERE id = \(station)")
    }

    static func gateways(_ client: PostgresClient) async throws -> [String] {
        try await strings("SELECT gateway_id FROM ocpp.gateways ORDER BY 1", client)
    }

    static func sessions(_ client: PostgresClient) async throws -> [UUID] {
        let rows = try await client.query(
            "SELECT session_id FROM ocpp.station_sessions ORDER BY 1", logger: TestDatabase.logger)
        return try await rows.collect().map { try $0.decode(UUID.self) }
    }
}

// MARK: - Metrics

/// A metrics backend that keeps what recorders and gauges were given, bound to one
/// test with `withMetricsFactory` (the global backend is not bootstrapped in tests,
/// and may be bootstrapped only once per process).
final class RecordingMetrics: MetricsFactory, Sendable {
    private let recorders = Mutex<[String: RecordedValues]>([:])

    func values(of label: String) -> [Double] {
        recorders.withLock { $0[label] }?.values ?? []
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        recorders.withLock { recorders in
            if let existing = recorders[label] { return existing }
            let recorder = RecordedValues()
            recorders[label] = recorder
            return recorder
        }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        NOOPMetricsHandler.instance
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        NOOPMetricsHandler.instance
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

final class RecordedValues: RecorderHandler, Sendable {
    private let recorded = Mutex<[Double]>([])

    var values: [Double] { recorded.withLock { $0 } }

    func record(_ value: Int64) { record(Double(value)) }
    func record(_ value: Double) { recorded.withLock { $0.append(value) } }
}
