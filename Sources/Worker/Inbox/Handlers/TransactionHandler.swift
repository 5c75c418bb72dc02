import Logging
import OCPP
import PostgresNIO

/// StartTransaction and StopTransaction, merged into one `transactions` row
/// whichever arrives first.
///
/// The start's facts (connector, id tag, time, meterStart) come from
/// `transaction_starts`, the content key the gateway wrote when it allocated the id,
/// so a stop applied before its start still creates a complete row; the start adds
/// its reservation. A stop sets the stop columns; of two different stops for one
/// transaction the greatest (stop time, meterStop, reason, id tag) wins, whatever the
/// order they are applied in. A
/// stop for a transaction this system never allocated (for this station) is not
/// merged anywhere here: ``StationEventHandler`` keeps it, and its meter values are
/// stored by ``MeterValuesHandler``.
struct TransactionHandler: InboxHandler {
    let actions: Set<OCPPAction> = [.startTransaction, .stopTransaction]

    /// Creates the rows, or adds a reservation; locks every referenced row in id order.
    var mergeStartsSQL: String {
        """
        WITH \(ClaimedBatch.rowsCTE(where: actionFilter)),
        referenced AS (
            SELECT DISTINCT b.station_id,
                   CASE WHEN b.action = 'StartTransaction' THEN (b.response->>'transactionId')::integer
                        ELSE (b.payload->>'transactionId')::integer END AS transaction_id,
                   CASE WHEN b.action = 'StartTransaction' THEN (b.payload->>'reservationId')::integer
                   END AS reservation_id
            FROM batch AS b
        ), known AS (
            SELECT s.transaction_id, s.station_id, s.connector_id, s.id_tag, s.meter_start, s.started_at,
                   max(r.reservation_id) AS reservation_id
            FROM referenced AS r
            JOIN ocpp.transaction_starts AS s ON s.transaction_id = r.transaction_id AND s.station_id = r.station_id
            GROUP BY 1, 2, 3, 4, 5, 6
        )
        INSERT INTO ocpp.transactions AS t (id, station_id, connector_id, id_tag, reservation_id, meter_start,
                                            started_at)
        SELECT transaction_id, station_id, connector_id, id_tag, reservation_id, meter_start, started_at
        FROM known
        ORDER BY transaction_id
        ON CONFLICT (id) DO UPDATE SET reservation_id = excluded.reservation_id, updated_at = now()
        WHERE excluded.reservation_id IS NOT NULL
          AND (t.reservation_id IS NULL OR excluded.reservation_id > t.reservation_id)
        """
    }

    /// Sets the stop of known transactions; `reason` defaults to Local (OCPP 1.6).
    var mergeStopsSQL: String {
        """
        WITH \(ClaimedBatch.rowsCTE(where: "action = 'StopTransaction'")),
        stops AS (
            SELECT DISTINCT ON (station_id, transaction_id) *
            FROM (
                SELECT (b.payload->>'transactionId')::integer AS transaction_id, b.station_id,
                       (b.payload->>'meterStop')::bigint AS meter_stop, b.station_time AS stopped_at,
                       b.payload->>'idTag' AS stop_id_tag, coalesce(b.payload->>'reason', 'Local') AS stop_reason
                FROM batch AS b
            ) AS s
            ORDER BY station_id, transaction_id, stopped_at DESC, meter_stop DESC, stop_reason DESC,
                     coalesce(stop_id_tag, '') DESC
        )
        UPDATE ocpp.transactions AS t
        SET meter_stop = s.meter_stop, stopped_at = s.stopped_at, stop_id_tag = s.stop_id_tag,
            stop_reason = s.stop_reason, updated_at = now()
        FROM stops AS s
        WHERE t.id = s.transaction_id AND t.station_id = s.station_id
          AND (t.stopped_at IS NULL
               OR (s.stopped_at, s.meter_stop, s.stop_reason, coalesce(s.stop_id_tag, ''))
                  > (t.stopped_at, t.meter_stop, t.stop_reason, coalesce(t.stop_id_tag, '')))
        """
    }

    func apply(_ batch: ClaimedBatch, on connection: PostgresConnection, logger: Logger) async throws {
        try await execute(mergeStartsSQL, batch, on: connection, logger: logger)
        if batch.countsByAction[.stopTransaction, default: 0] > 0 {
            try await execute(mergeStopsSQL, batch, on: connection, logger: logger)
        }
    }
}
