-- Delivery of the durable outbound queue (0006): enqueuing a command wakes the
-- gateway that holds the station's live session, in the enqueuing transaction, so
-- the NOTIFY is sent exactly when the row becomes visible. The gateway then claims
-- the station's oldest due command itself; the notice only says "look". A station
-- without a session gets no notice: its commands wait for its next connection.
CREATE OR REPLACE FUNCTION ocpp.enqueue_call(
    station_identity text, action text, payload jsonb, collapse_key text DEFAULT NULL,
    expires_at timestamptz DEFAULT NULL, not_before timestamptz DEFAULT now()
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    station bigint;
    queued text;
BEGIN
    IF NOT ocpp.is_command(action) THEN
        RAISE EXCEPTION '% is not a command a central system sends', action USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(payload) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'the payload of % must be a JSON object', action USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF expires_at IS NOT NULL AND expires_at <= coalesce(not_before, now()) THEN
        RAISE EXCEPTION 'expires_at must be later than not_before' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.id INTO station FROM ocpp.stations AS s WHERE s.identity = station_identity;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no station %', station_identity USING ERRCODE = 'no_data_found';
    END IF;
    IF collapse_key IS NOT NULL THEN
        UPDATE ocpp.station_messages AS m SET status = 'replaced', closed_at = now()
        WHERE m.station_id = station AND m.collapse_key = enqueue_call.collapse_key AND m.status = 'pending';
    END IF;
    INSERT INTO ocpp.station_messages (station_id, action, payload, collapse_key, expires_at, not_before)
    VALUES (station, action, payload, collapse_key, expires_at, coalesce(not_before, now()))
    RETURNING message_id INTO queued;
    -- The channel and message of Gateway/Session/GatewayChannel.swift.
    PERFORM pg_notify('ocpp_gateway_' || s.gateway_id, 'outbound ' || station)
    FROM ocpp.station_sessions AS s WHERE s.station_id = station;
    RETURN queued;
END
$$;
