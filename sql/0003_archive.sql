-- Copies raw meter values of [from_time, to_time) into the long-retention archive.
-- Idempotent (the archive has the same sample key), so the worker runs it over a
-- window reaching back past the raw retention's edge and late values still arrive.
CREATE FUNCTION ocpp.archive_meter_values(from_time timestamptz, to_time timestamptz)
RETURNS bigint LANGUAGE sql AS $$
    WITH copied AS (
        INSERT INTO ocpp.meter_values_archive
        SELECT * FROM ocpp.meter_values WHERE sampled_at >= from_time AND sampled_at < to_time
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT count(*) FROM copied
$$;
