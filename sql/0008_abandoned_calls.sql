-- A command stays `sent` only until the gateway that sent it records the answer or
-- the timeout. When that gateway cannot record it (the database was unreachable at
-- that moment, or the gateway died mid-call), the row would stay `sent` for ever.
-- The worker's command-expiry job closes such rows as timed out once no gateway
-- could still be waiting for them: OCPP_CALL_TIMEOUT is at most one hour, so a row
-- sent more than an hour and five minutes ago has no answer coming. The command is
-- not resent (a Reset must not happen twice).
CREATE OR REPLACE FUNCTION ocpp.expire_calls(now_time timestamptz) RETURNS bigint LANGUAGE sql AS $$
    WITH expired AS (
        UPDATE ocpp.station_messages SET status = 'expired', closed_at = now_time
        WHERE status = 'pending' AND expires_at <= now_time
        RETURNING 1
    ), abandoned AS (
        UPDATE ocpp.station_messages
        SET status = 'timed_out', closed_at = now_time,
            error_description = 'no answer was recorded by the gateway that sent it'
        WHERE status = 'sent' AND sent_at < now_time - interval '65 minutes'
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM expired) + (SELECT count(*) FROM abandoned)
$$;
CREATE INDEX station_messages_sent ON ocpp.station_messages (sent_at) WHERE status = 'sent';
