-- The entry points of the durable outbound queue (ocpp.station_messages, 0001):
-- enqueue a command for a station (waking the gateway that holds its session),
-- cancel a pending one, expire overdue ones. The Swift side
-- (Shared/Outbound) validates the payload against the action's schema before it
-- calls ocpp.enqueue_call; operators who call the function from SQL get the checks
-- SQL can make here (a command action, an object payload, a known station), and
-- the gateway validates again before it sends.

-- When a command reached its final state (answered, failed, timed out, expired,
-- cancelled, replaced): every transition has its time.
ALTER TABLE ocpp.station_messages ADD COLUMN closed_at timestamptz;

-- The CALLs a central system sends (OCPP 1.6 and the security whitepaper).
CREATE FUNCTION ocpp.is_command(action text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT action IN (
        'CancelReservation', 'ChangeAvailability', 'ChangeConfiguration', 'ClearCache', 'ClearChargingProfile',
        'DataTransfer', 'GetCompositeSchedule', 'GetConfiguration', 'GetDiagnostics', 'GetLocalListVersion',
        'RemoteStartTransaction', 'RemoteStopTransaction', 'ReserveNow', 'Reset', 'SendLocalList',
        'SetChargingProfile', 'TriggerMessage', 'UnlockConnector', 'UpdateFirmware', 'CertificateSigned',
        'DeleteCertificate', 'ExtendedTriggerMessage', 'GetInstalledCertificateIds', 'GetLog',
        'InstallCertificate', 'SignedUpdateFirmware')
$$;

-- Queues `payload` as an `action` CALL for the station `station_identity`; returns
-- the OCPP message id it will carry. A command with a `collapse_key` replaces the
-- station's pending command with the same key (an operator who changes one setting
-- three times while the station is offline wants one command delivered). A command
-- still pending at `expires_at` is marked expired; none is sent before `not_before`.
CREATE FUNCTION ocpp.enqueue_call(
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
    -- Wakes the gateway holding the station's live session, in this transaction, so
    -- the notice comes exactly when the row becomes visible; the gateway then claims
    -- the station's oldest due command itself (the notice only says "look"). A
    -- station without a session gets none: its commands wait for its next
    -- connection. Channel and message as in Gateway/Session/GatewayChannel.swift.
    PERFORM pg_notify('ocpp_gateway_' || s.gateway_id, 'outbound ' || station)
    FROM ocpp.station_sessions AS s WHERE s.station_id = station;
    RETURN queued;
END
$$;

-- Cancels a command that has not been sent; returns false when there is no pending
-- command with that id (sent ones cannot be called back).
CREATE FUNCTION ocpp.cancel_call(queued_message_id text) RETURNS boolean LANGUAGE sql AS $$
    WITH cancelled AS (
        UPDATE ocpp.station_messages SET status = 'cancelled', closed_at = now()
        WHERE message_id = queued_message_id AND status = 'pending'
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM cancelled)
$$;

-- Marks pending commands whose expiry has passed as expired; returns how many.
CREATE FUNCTION ocpp.expire_calls(now_time timestamptz) RETURNS bigint LANGUAGE sql AS $$
    WITH expired AS (
        UPDATE ocpp.station_messages SET status = 'expired', closed_at = now_time
        WHERE status = 'pending' AND expires_at <= now_time
        RETURNING 1
    )
    SELECT count(*) FROM expired
$$;
CREATE INDEX station_messages_pending_expiry ON ocpp.station_messages (expires_at)
    WHERE status = 'pending' AND expires_at IS NOT NULL;
