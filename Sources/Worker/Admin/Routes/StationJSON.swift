/// How a station reads in the admin API, rendered by the database from
/// `ocpp.stations AS s`.
enum StationJSON {
    /// The station as listed.
    static let summary = """
        json_build_object(
            'identity', s.identity, 'registrationStatus', s.registration_status, 'online', s.online,
            'lastSeenAt', s.last_seen_at, 'lastBootAt', s.last_boot_at, 'bootStatus', s.boot_status,
            'connectedAt', s.connected_at, 'disconnectedAt', s.disconnected_at, 'gateway', s.session_gateway_id,
            'boot', json_build_object(
                'chargePointVendor', s.vendor, 'chargePointModel', s.model,
                'chargePointSerialNumber', s.serial_number, 'chargeBoxSerialNumber', s.charge_box_serial_number,
                'firmwareVersion', s.firmware_version, 'iccid', s.iccid, 'imsi', s.imsi,
                'meterType', s.meter_type, 'meterSerialNumber', s.meter_serial_number),
            'localListVersion', s.local_list_version, 'hasPassword', s.password_hash IS NOT NULL,
            'passwordPending', s.pending_password_hash IS NOT NULL, 'passwordChangedAt', s.password_changed_at,
            'validationMode', s.validation_mode, 'securityProfile', s.security_profile, 'createdAt', s.created_at)
        """

    /// The station with its connectors, configuration, open transactions and active
    /// reservations.
    static let detail = """
        (\(summary)::jsonb || jsonb_build_object(
            'connectors', (
                SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'connectorId', c.connector_id, 'status', c.status, 'errorCode', c.error_code,
                    'info', c.info, 'vendorId', c.vendor_id, 'vendorErrorCode', c.vendor_error_code,
                    'statusAt', c.status_at) ORDER BY c.connector_id), '[]')
                FROM ocpp.connectors AS c WHERE c.station_id = s.id),
            'configuration', (
                SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'key', k.key, 'value', k.value, 'readonly', k.readonly, 'updatedAt', k.updated_at)
                    ORDER BY k.key), '[]')
                FROM ocpp.station_configuration AS k WHERE k.station_id = s.id),
            'openTransactions', (
                SELECT coalesce(jsonb_agg(\(TransactionJSON.object)::jsonb ORDER BY t.id), '[]')
                FROM ocpp.transactions AS t WHERE t.station_id = s.id AND t.status = 'Active'),
            'reservations', (
                SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'reservationId', r.reservation_id, 'connectorId', r.connector_id, 'idTag', r.id_tag,
                    'parentIdTag', r.parent_id_tag, 'expiryDate', r.expiry_date) ORDER BY r.reservation_id), '[]')
                FROM ocpp.reservations AS r
                WHERE r.station_id = s.id AND r.status = 'Reserved' AND r.expiry_date > now())
        ))::text
        """
}
