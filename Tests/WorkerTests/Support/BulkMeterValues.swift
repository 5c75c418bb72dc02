import PostgresNIO
import TestSupport

/// Many MeterValues work rows written by one `INSERT ... SELECT` over
/// `generate_series`: the payloads are built in the database, so 100,000 rows take
/// seconds, where one round trip per row would take minutes.
///
/// Row `n` belongs to station `n % stations`, samples the second `n` seconds before
/// the current hour began (a distinct time per row, so no row is a replay of
/// another) and carries `sampledValuesPerRow` values of distinct measurands: every
/// row adds exactly that many `meter_values` rows when it is applied once.
struct BulkMeterValues: Sendable {
    var rows: Int
    var stations = 4
    var sampledValuesPerRow = 1

    /// Measurands of the sampled values, one per value of a row (the replay key tells
    /// them apart).
    static let measurands = [
        "Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage", "SoC",
        "Temperature", "Frequency", "Power.Offered", "Current.Offered", "Energy.Reactive.Import.Register",
    ]

    var expectedMeterValues: Int { rows * sampledValuesPerRow }

    /// Registers the stations (`BULK-1` ...) and inserts the work rows, unprocessed.
    func insert(using client: PostgresClient) async throws {
        precondition(sampledValuesPerRow <= Self.measurands.count, "one measurand per sampled value")
        _ = try await client.query(
            """
            INSERT INTO ocpp.stations (identity, registration_status)
            SELECT 'BULK-' || s, 'Accepted' FROM generate_series(1, \(Int32(stations))) AS s
            """, logger: TestDatabase.logger
        ).collect()
        _ = try await client.query(
            """
            WITH registered AS (
                SELECT array_agg(id ORDER BY id) AS ids FROM ocpp.stations WHERE identity LIKE 'BULK-%'
            )
            INSERT INTO ocpp.inbox (gateway_id, station_id, kind, action, message_id, payload, response, station_time)
            SELECT 'bulk-gateway', registered.ids[1 + n % cardinality(registered.ids)], 'call', 'MeterValues',
                   'bulk-' || n,
                   jsonb_build_object(
                       'connectorId', 1,
                       'meterValue', jsonb_build_array(jsonb_build_object(
                           'timestamp', t.sampled_at,
                           'sampledValue', (
                               SELECT jsonb_agg(jsonb_build_object('value', (n * 10 + v)::text,
                                                                   'measurand', (\(Self.measurands)::text[])[v])
                                                ORDER BY v)
                               FROM generate_series(1, \(Int32(sampledValuesPerRow))) AS v))))::json,
                   '{}'::jsonb, t.sampled_at
            FROM registered, generate_series(1, \(Int32(rows))) AS n,
                 LATERAL (SELECT date_trunc('hour', now()) - n * interval '1 second') AS t (sampled_at)
            ORDER BY n
            """, logger: TestDatabase.logger
        ).collect()
    }

    /// The ids of every work row in the inbox.
    static func allIDs(using client: PostgresClient) async throws -> Set<Int64> {
        var ids = Set<Int64>()
        let rows = try await client.query("SELECT id FROM ocpp.inbox", logger: TestDatabase.logger)
        for try await id in rows.decode(Int64.self) { ids.insert(id) }
        return ids
    }
}

/// What the inbox and `meter_values` hold at one moment.
struct DrainProgress: Sendable, Equatable {
    var processed: Int
    var unprocessed: Int
    var refused: Int
    var meterValues: Int

    static func read(using client: PostgresClient) async throws -> DrainProgress {
        let rows = try await client.query(
            """
            SELECT count(*) - (SELECT count(*) FROM ocpp.inbox_pending), (SELECT count(*) FROM ocpp.inbox_pending),
                   (SELECT count(*) FROM ocpp.inbox_refusals), (SELECT count(*) FROM ocpp.meter_values)
            FROM ocpp.inbox
            """, logger: TestDatabase.logger)
        // Collected, not iterated with an early return: an unfinished row sequence keeps its pool lease.
        guard let row = try await rows.collect().first else {
            throw WorkerProcessError(message: "the progress query returned no row")
        }
        let (processed, unprocessed, refused, meterValues) = try row.decode((Int, Int, Int, Int).self)
        return DrainProgress(processed: processed, unprocessed: unprocessed, refused: refused, meterValues: meterValues)
    }
}
