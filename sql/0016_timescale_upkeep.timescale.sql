-- Two faults of the TimescaleDB path (issue R2 5/5, point 4).
--
-- The newest hour: the continuous aggregate was materialized-only with a one-hour
-- end offset, so the admin API's hourly view lagged up to ~75 minutes. Real-time
-- aggregation adds the rows not yet materialized at query time.
ALTER MATERIALIZED VIEW ocpp.meter_values_hourly SET (timescaledb.materialized_only = false);

-- The retention policy: every worker start removed and added it again, which starts
-- a new job and loses the old one's history (runs, failures). Now the policy is
-- changed only when the setting changed.
CREATE OR REPLACE FUNCTION ocpp.configure_retention(meter_values_days integer, inbox_days integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    wanted constant interval := CASE WHEN meter_values_days > 0 THEN meter_values_days * INTERVAL '1 day' END;
    existing interval;
BEGIN
    INSERT INTO ocpp.settings (name, value)
    VALUES ('meter_values_retention_days', meter_values_days::text), ('inbox_retention_days', inbox_days::text)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value;
    SELECT (config ->> 'drop_after')::interval INTO existing
    FROM timescaledb_information.jobs
    WHERE proc_name = 'policy_retention' AND hypertable_schema = 'ocpp' AND hypertable_name = 'meter_values';
    IF existing IS NOT DISTINCT FROM wanted THEN
        RETURN;
    END IF;
    PERFORM remove_retention_policy('ocpp.meter_values', if_exists => true);
    IF wanted IS NOT NULL THEN
        PERFORM add_retention_policy('ocpp.meter_values', wanted);
    END IF;
    -- The inbox has no retention policy: the worker's partition job drops its old
    -- chunks once they are applied (0005).
END
$$;
