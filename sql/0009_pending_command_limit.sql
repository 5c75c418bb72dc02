-- A cap on the commands waiting for one station, so that a script gone wrong (or a
-- station that never comes back) cannot grow the queue without bound. The worker
-- records OCPP_MAX_PENDING_COMMANDS in ocpp.settings at start; without a record the
-- cap is 1000. A command that replaces a pending one by its collapse key does not
-- add to the count. Same function as in 0006, with the check before the insert.
CREATE OR REPLACE FUNCTION ocpp.enqueue_call(
    station_identity text, action text, payload jsonb, collapse_key text DEFAULT NULL,
    expires_at timestamptz DEFAULT NULL, not_before timestamptz DEFAULT now()
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    station bigint;
    queued text;
    pending bigint;
    cap constant bigint := coalesce(
        (SELECT value::bigint FROM ocpp.settings WHERE name = 'max_pending_commands'), 1000);
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
    -- No lock on the station row (the worker updates it all the time, and a wait
    -- here would delay delivery): enqueues racing for one station may pass the cap
    -- by a few, which a guard against runaway growth can afford.
    SELECT s.id INTO station FROM ocpp.stations AS s WHERE s.identity = station_identity;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no station %', station_identity USING ERRCODE = 'no_data_found';
    END IF;
    IF collapse_key IS NOT NULL THEN
        UPDATE ocpp.station_messages AS m SET status = 'replaced', closed_at = now()
        WHERE m.station_id = station AND m.collapse_key = enqueue_call.collapse_key AND m.status = 'pending';
    END IF;
    SELECT count(*) INTO pending FROM ocpp.station_messages AS m WHERE m.station_id = station AND m.status = 'pending';
    IF pending >= cap THEN
        RAISE EXCEPTION 'station % already has % pending commands (the limit, OCPP_MAX_PENDING_COMMANDS)',
            station_identity, pending USING ERRCODE = 'program_limit_exceeded';
    END IF;
    INSERT INTO ocpp.station_messages (station_id, action, payload, collapse_key, expires_at, not_before)
    VALUES (station, action, payload, collapse_key, expires_at, coalesce(not_before, now()))
    RETURNING message_id INTO queued;
    -- Wakes the gateway holding the station's live session (see 0006).
    PERFORM pg_notify('ocpp_gateway_' || s.gateway_id, 'outbound ' || station)
    FROM ocpp.station_sessions AS s WHERE s.station_id = station;
    RETURN queued;
END
$$;
