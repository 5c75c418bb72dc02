-- The inbox journal is dropped after retention only once the worker has applied
-- it. A retention policy would drop chunks blindly, so the inbox's policy is
-- replaced by the worker's partition job, which drops old chunks only when no
-- unprocessed work row is older than the cutoff (a worker that lags, or was stopped
-- for longer than the retention, must lose nothing). Raw meter values keep their
-- policy.
CREATE OR REPLACE FUNCTION ocpp.configure_retention(meter_values_days integer, inbox_days integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.settings (name, value)
    VALUES ('meter_values_retention_days', meter_values_days::text), ('inbox_retention_days', inbox_days::text)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value;
    PERFORM remove_retention_policy('ocpp.meter_values', if_exists => true);
    PERFORM remove_retention_policy('ocpp.inbox', if_exists => true);
    IF meter_values_days > 0 THEN
        PERFORM add_retention_policy('ocpp.meter_values', meter_values_days * INTERVAL '1 day');
    END IF;
END
$$;
SELECT ocpp.configure_retention(
    (SELECT value::integer FROM ocpp.settings WHERE name = 'meter_values_retention_days'),
    (SELECT value::integer FROM ocpp.settings WHERE name = 'inbox_retention_days'));

CREATE OR REPLACE FUNCTION ocpp.maintain_partitions(now_time timestamptz, days_ahead integer)
RETURNS TABLE (created integer, dropped integer) LANGUAGE plpgsql AS $$
DECLARE
    inbox_days constant integer := (SELECT value::integer FROM ocpp.settings WHERE name = 'inbox_retention_days');
    cutoff timestamptz;
BEGIN
    created := 0;
    dropped := 0;
    IF inbox_days > 0 THEN
        cutoff := now_time - inbox_days * interval '1 day';
        IF NOT EXISTS (SELECT 1 FROM ocpp.inbox WHERE processed_at IS NULL AND received_at < cutoff) THEN
            dropped := (SELECT count(*) FROM drop_chunks('ocpp.inbox', older_than => cutoff));
        END IF;
    END IF;
    RETURN NEXT;
END
$$;
