-- Values that arrive late on the TimescaleDB path (issue 21, point 4 a).
--
-- The continuous aggregate's policy refreshes only its window (the last 3 days), so
-- a value sampled before it (a charger with a wrong clock, or back after a long
-- outage) never reached meter_values_hourly: refresh_stale_hours cleared its hour
-- without a refresh. refresh_continuous_aggregate cannot run in a transaction block
-- or in a function, so the worker refreshes those hours: refresh_stale_hours moves
-- them to meter_values_late_hours, and the worker's rollup job refreshes them with a
-- top-level CALL per run of adjacent hours, then forgets them. A refresh that fails
-- leaves its hours listed for the next run. A value that arrives for an hour while
-- it is refreshed marks it stale again in meter_values_stale_hours, so the next run
-- takes it again.
CREATE TABLE ocpp.meter_values_late_hours (
    bucket  timestamptz PRIMARY KEY
);

-- Forgets the stale hours that ended before `before`; those older than the policy's
-- window go to meter_values_late_hours. The hours inside the window are the
-- policy's, and the current one is computed at query time (0016). Only the rollup
-- job calls it, under its lock, so no other call moves an hour the job is refreshing.
CREATE OR REPLACE FUNCTION ocpp.refresh_stale_hours(before timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    window_start interval;
    schedule interval;
    retention interval;
    -- Without a policy nothing refreshes the aggregate but the worker: every hour is late.
    late_before timestamptz := 'infinity';
    late_after timestamptz := '-infinity';
    taken integer;
BEGIN
    SELECT (j.config ->> 'start_offset')::interval, j.schedule_interval INTO window_start, schedule
    FROM timescaledb_information.jobs AS j
    JOIN timescaledb_information.continuous_aggregates AS c
      ON c.materialization_hypertable_schema = j.hypertable_schema
     AND c.materialization_hypertable_name = j.hypertable_name
    WHERE j.proc_name = 'policy_refresh_continuous_aggregate'
      AND c.view_schema = 'ocpp' AND c.view_name = 'meter_values_hourly';
    IF FOUND THEN
        -- An hour just inside the window can leave it before the policy's next run:
        -- a schedule interval later, and an hour more for a run that is late or long.
        -- A policy with no start (NULL) refreshes everything: nothing is late.
        late_before := coalesce(before - window_start + schedule + interval '1 hour', '-infinity');
    END IF;
    -- An hour older than the raw values' retention has lost its other values, or is
    -- about to: refreshing it would replace its aggregate with the late values alone.
    SELECT (config ->> 'drop_after')::interval INTO retention
    FROM timescaledb_information.jobs
    WHERE proc_name = 'policy_retention' AND hypertable_schema = 'ocpp' AND hypertable_name = 'meter_values';
    IF retention IS NOT NULL THEN
        late_after := before - retention;
    END IF;

    WITH stale AS (
        DELETE FROM ocpp.meter_values_stale_hours WHERE bucket <= before RETURNING bucket
    ), late AS (
        INSERT INTO ocpp.meter_values_late_hours (bucket)
        SELECT bucket FROM stale WHERE bucket < late_before AND bucket >= late_after
        ON CONFLICT DO NOTHING
    )
    SELECT count(*) INTO taken FROM stale;
    RETURN taken;
END
$$;
