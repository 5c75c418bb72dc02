/// How a transaction reads in the admin API, rendered by the database from
/// `ocpp.transactions AS t`.
enum TransactionJSON {
    static let object = """
        json_build_object(
            'id', t.id, 'station', (SELECT identity FROM ocpp.stations WHERE id = t.station_id),
            'connectorId', t.connector_id, 'idTag', t.id_tag, 'reservationId', t.reservation_id,
            'status', t.status, 'meterStart', t.meter_start, 'startedAt', t.started_at,
            'meterStop', t.meter_stop, 'stoppedAt', t.stopped_at, 'stopIdTag', t.stop_id_tag,
            'stopReason', t.stop_reason, 'energyWh', t.meter_stop - t.meter_start)
        """
}
