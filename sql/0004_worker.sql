-- What the worker keeps beyond 0001: a station's boot answer and online state, the
-- newest-status tiebreak on connectors, an event log for the messages that have no
-- table of their own, and the hours whose rollup is stale.

-- Online state, merged order-free from connect/disconnect work rows: the session
-- with the latest (connected_at, session_id) wins, and within one session a
-- disconnect beats the connect. `online` follows from it.
ALTER TABLE ocpp.stations
    ADD COLUMN boot_status         text,
    ADD COLUMN session_id          uuid,
    ADD COLUMN session_gateway_id  text,
    ADD COLUMN connected_at        timestamptz,
    ADD COLUMN disconnected_at     timestamptz,
    ADD COLUMN online              boolean NOT NULL
                                   GENERATED ALWAYS AS (session_id IS NOT NULL AND disconnected_at IS NULL) STORED;
COMMENT ON COLUMN ocpp.stations.boot_status IS
    'The registration status the gateway answered at the last BootNotification.';

-- Two notifications with the same station timestamp are ordered by receive time.
ALTER TABLE ocpp.connectors ADD COLUMN status_received_at timestamptz;

-- DataTransfer, diagnostics/firmware/log status, security events, CSRs, and stops
-- of transactions this system never started: kept as sent, for operators. One
-- event per work row (a replayed batch inserts nothing).
CREATE TABLE ocpp.station_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id    bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    inbox_id      bigint NOT NULL UNIQUE,
    action        text NOT NULL,
    payload       jsonb NOT NULL,
    response      jsonb,
    station_time  timestamptz,
    received_at   timestamptz NOT NULL
);
CREATE INDEX station_events_station_action ON ocpp.station_events (station_id, action, received_at DESC);
CREATE INDEX station_events_received_at ON ocpp.station_events (received_at);
CREATE INDEX status_events_received_at ON ocpp.status_events (received_at);

-- Hours that received meter values since their rollup was last computed. The
-- worker adds them as it inserts values (late ones too) and the maintenance job
-- recomputes exactly these hours.
CREATE TABLE ocpp.meter_values_stale_hours (
    bucket  timestamptz PRIMARY KEY
);

-- Recomputes the stale hours that ended before `before` and forgets them. On
-- TimescaleDB the continuous aggregate refreshes itself and the call only clears the
-- list. Returns how many hours it took.
CREATE FUNCTION ocpp.refresh_stale_hours(before timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    stale record;
    taken integer := 0;
BEGIN
    FOR stale IN
        DELETE FROM ocpp.meter_values_stale_hours WHERE bucket <= before RETURNING bucket
    LOOP
        PERFORM ocpp.refresh_meter_values_hourly(stale.bucket, stale.bucket + interval '1 hour');
        taken := taken + 1;
    END LOOP;
    RETURN taken;
END
$$;

-- Status history and station events older than `cutoff` (retention).
CREATE FUNCTION ocpp.prune_events(cutoff timestamptz) RETURNS bigint LANGUAGE sql AS $$
    WITH statuses AS (DELETE FROM ocpp.status_events WHERE received_at < cutoff RETURNING 1),
         events AS (DELETE FROM ocpp.station_events WHERE received_at < cutoff RETURNING 1)
    SELECT (SELECT count(*) FROM statuses) + (SELECT count(*) FROM events)
$$;

-- A work row the worker could not apply (a value outside its column's range, a
-- station deleted meanwhile) is set aside with the reason instead of blocking the
-- rows behind it: processed, with `apply_error` set. Clearing both columns
-- re-queues it.
ALTER TABLE ocpp.inbox ADD COLUMN apply_error text;

-- Copies meter values older than `archive_after` to the archive: from where the
-- previous run stopped (at most a day back, which also takes values that arrived a
-- little late) to now_time - archive_after. Returns how many it copied.
CREATE FUNCTION ocpp.archive_due(now_time timestamptz, archive_after interval) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    through constant timestamptz := now_time - archive_after;
    since timestamptz;
    copied bigint;
BEGIN
    since := least(coalesce((SELECT value::timestamptz FROM ocpp.settings WHERE name = 'archived_through'),
                            '-infinity'),
                   through - interval '1 day');
    copied := ocpp.archive_meter_values(since, through);
    INSERT INTO ocpp.settings (name, value) VALUES ('archived_through', through::text)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value;
    RETURN copied;
END
$$;

-- The replay key also tells formats apart: a meter that signs its readings (German
-- calibration law) sends each sample twice, as Raw and as SignedData, with the same
-- time and measurand, and both must be kept.
DROP INDEX ocpp.meter_values_sample_key;
CREATE UNIQUE INDEX meter_values_sample_key
    ON ocpp.meter_values (station_id, connector_id, sampled_at, measurand, phase, location, context, format);
DROP INDEX ocpp.meter_values_archive_sample_key;
CREATE UNIQUE INDEX meter_values_archive_sample_key
    ON ocpp.meter_values_archive (station_id, connector_id, sampled_at, measurand, phase, location, context, format);
