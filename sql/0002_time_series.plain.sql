-- Time-series tables on plain PostgreSQL (the path taken when TimescaleDB is not
-- available). meter_values and inbox are range-partitioned by day, the archive by
-- month; the worker creates partitions ahead and drops them after retention by
-- calling ocpp.maintain_partitions(). Each partitioned table has a DEFAULT
-- partition, so a row outside the prepared range (a charger with a wrong clock) is
-- kept, never refused; creating a partition later moves such rows into it.
-- The table and column names match 0002_time_series.timescale.sql, so the same
-- queries work on both paths.

CREATE FUNCTION ocpp.storage_path() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'plain' $$;

-- The journal of every message a gateway accepted: the worker's work rows.
-- Identity columns need PostgreSQL 17 on partitioned tables, so ids come from a
-- plain sequence.
CREATE SEQUENCE ocpp.inbox_id_seq AS bigint;
CREATE TABLE ocpp.inbox (
    id              bigint NOT NULL DEFAULT nextval('ocpp.inbox_id_seq'),
    received_at     timestamptz NOT NULL DEFAULT now(),
    gateway_id      text NOT NULL,
    station_id      bigint NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('call', 'connected', 'disconnected')),
    action          text,
    message_id      text,
    payload_digest  bytea,
    payload         jsonb,
    response        jsonb,
    -- The station's own timestamp of the message, where it has one; received_at is
    -- the gateway's clock. Chargers with drifting clocks or 1970 dates are common.
    station_time    timestamptz,
    processed_at    timestamptz,
    PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
CREATE TABLE ocpp.inbox_default PARTITION OF ocpp.inbox DEFAULT;
CREATE INDEX inbox_unprocessed ON ocpp.inbox (id) WHERE processed_at IS NULL;
CREATE INDEX inbox_station_time ON ocpp.inbox (station_id, received_at DESC);

-- One row per sampled value. Spec defaults are stored, not NULLs, so that the
-- replay key below treats an omitted field and its default as the same sample.
CREATE TABLE ocpp.meter_values (
    sampled_at      timestamptz NOT NULL,
    station_id      bigint NOT NULL,
    connector_id    integer NOT NULL,
    transaction_id  integer,
    measurand       text NOT NULL DEFAULT 'Energy.Active.Import.Register',
    phase           text NOT NULL DEFAULT '',
    location        text NOT NULL DEFAULT 'Outlet',
    unit            text NOT NULL DEFAULT 'Wh',
    context         text NOT NULL DEFAULT 'Sample.Periodic',
    format          text NOT NULL DEFAULT 'Raw',
    -- The number, for Raw values that parse as one.
    value           double precision,
    -- The text as sent, for SignedData and anything that is not a number.
    raw_value       text,
    received_at     timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (sampled_at);
CREATE TABLE ocpp.meter_values_default PARTITION OF ocpp.meter_values DEFAULT;
CREATE UNIQUE INDEX meter_values_sample_key
    ON ocpp.meter_values (station_id, connector_id, sampled_at, measurand, phase, location, context);
CREATE INDEX meter_values_station_time ON ocpp.meter_values (station_id, sampled_at DESC);

CREATE TABLE ocpp.meter_values_archive (LIKE ocpp.meter_values INCLUDING DEFAULTS)
    PARTITION BY RANGE (sampled_at);
CREATE TABLE ocpp.meter_values_archive_default PARTITION OF ocpp.meter_values_archive DEFAULT;
CREATE UNIQUE INDEX meter_values_archive_sample_key
    ON ocpp.meter_values_archive (station_id, connector_id, sampled_at, measurand, phase, location, context);

-- The hourly rollup, with the columns of the TimescaleDB continuous aggregate.
CREATE TABLE ocpp.meter_values_hourly (
    bucket        timestamptz NOT NULL,
    station_id    bigint NOT NULL,
    connector_id  integer NOT NULL,
    measurand     text NOT NULL,
    phase         text NOT NULL,
    min_value     double precision,
    max_value     double precision,
    avg_value     double precision,
    last_value    double precision,
    energy_delta  double precision,
    sample_count  bigint NOT NULL,
    PRIMARY KEY (station_id, connector_id, measurand, phase, bucket)
);

-- Recomputes the hourly buckets that overlap [from_time, to_time). Idempotent; the
-- worker runs it over the recent past, which also picks up late meter values.
CREATE FUNCTION ocpp.refresh_meter_values_hourly(from_time timestamptz, to_time timestamptz)
RETURNS bigint LANGUAGE sql AS $$
    WITH buckets AS (
        SELECT date_trunc('hour', sampled_at, 'UTC') AS bucket, station_id, connector_id, measurand, phase,
               min(value) AS min_value, max(value) AS max_value, avg(value) AS avg_value,
               (array_agg(value ORDER BY sampled_at DESC))[1] AS last_value,
               CASE WHEN measurand LIKE 'Energy.%.Register'
                    THEN (array_agg(value ORDER BY sampled_at DESC))[1] - (array_agg(value ORDER BY sampled_at))[1]
               END AS energy_delta,
               count(*) AS sample_count
        FROM ocpp.meter_values
        WHERE sampled_at >= date_trunc('hour', from_time, 'UTC') AND sampled_at < to_time
          AND value IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5
    ), upserted AS (
        INSERT INTO ocpp.meter_values_hourly AS h
        SELECT bucket, station_id, connector_id, measurand, phase, min_value, max_value, avg_value,
               last_value, energy_delta, sample_count
        FROM buckets
        ON CONFLICT (station_id, connector_id, measurand, phase, bucket) DO UPDATE SET
            min_value = excluded.min_value, max_value = excluded.max_value, avg_value = excluded.avg_value,
            last_value = excluded.last_value, energy_delta = excluded.energy_delta,
            sample_count = excluded.sample_count
        RETURNING 1
    )
    SELECT count(*) FROM upserted
$$;

-- Creates the partitions of parent_table (daily or monthly, by `step`) covering
-- [from_time, to_time) that do not exist yet, moving any rows of the range out of
-- the DEFAULT partition first. Bounds are UTC days or months. Returns how many it made.
CREATE FUNCTION ocpp.create_partitions(
    parent_table text, time_column text, step interval, from_time timestamptz, to_time timestamptz
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    unit constant text := CASE WHEN step = interval '1 month' THEN 'month' ELSE 'day' END;
    suffix_format constant text := CASE WHEN step = interval '1 month' THEN 'YYYYMM' ELSE 'YYYYMMDD' END;
    lower_bound timestamp := date_trunc(unit, from_time AT TIME ZONE 'UTC');
    upper_bound timestamp;
    partition_name text;
    created integer := 0;
BEGIN
    IF step NOT IN (interval '1 day', interval '1 month') THEN
        RAISE EXCEPTION 'partition step must be 1 day or 1 month, not %', step;
    END IF;
    WHILE lower_bound < to_time AT TIME ZONE 'UTC' LOOP
        upper_bound := lower_bound + step;
        partition_name := parent_table || '_p' || to_char(lower_bound, suffix_format);
        IF to_regclass(format('ocpp.%I', partition_name)) IS NULL THEN
            EXECUTE format('CREATE TABLE ocpp.%I (LIKE ocpp.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', partition_name, parent_table);
            EXECUTE format(
                'WITH moved AS (DELETE FROM ocpp.%I WHERE %I >= $1 AND %I < $2 RETURNING *) '
                'INSERT INTO ocpp.%I SELECT * FROM moved',
                parent_table || '_default', time_column, time_column, partition_name)
                USING lower_bound AT TIME ZONE 'UTC', upper_bound AT TIME ZONE 'UTC';
            EXECUTE format('ALTER TABLE ocpp.%I ATTACH PARTITION ocpp.%I FOR VALUES FROM (%L) TO (%L)',
                parent_table, partition_name,
                lower_bound AT TIME ZONE 'UTC', upper_bound AT TIME ZONE 'UTC');
            created := created + 1;
        END IF;
        lower_bound := upper_bound;
    END LOOP;
    RETURN created;
END
$$;

-- Drops the partitions of parent_table that end at or before `cutoff`, and deletes
-- rows older than it from the DEFAULT partition. Returns how many partitions it dropped.
CREATE FUNCTION ocpp.drop_partitions_before(parent_table text, time_column text, cutoff timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    partition record;
    dropped integer := 0;
BEGIN
    FOR partition IN
        SELECT child.relname AS name,
               substring(pg_get_expr(child.relpartbound, child.oid) FROM 'TO \(''([^'']+)''\)')::timestamptz AS ends_at
        FROM pg_inherits
        JOIN pg_class child ON child.oid = pg_inherits.inhrelid
        WHERE pg_inherits.inhparent = format('ocpp.%I', parent_table)::regclass
          AND NOT child.relispartition IS FALSE
          AND pg_get_expr(child.relpartbound, child.oid) <> 'DEFAULT'
    LOOP
        IF partition.ends_at <= cutoff THEN
            EXECUTE format('DROP TABLE ocpp.%I', partition.name);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    EXECUTE format('DELETE FROM ocpp.%I WHERE %I < $1', parent_table || '_default', time_column) USING cutoff;
    RETURN dropped;
END
$$;

-- Retention settings (days; 0 keeps forever), read by ocpp.maintain_partitions().
CREATE FUNCTION ocpp.configure_retention(meter_values_days integer, inbox_days integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO ocpp.settings (name, value)
    VALUES ('meter_values_retention_days', meter_values_days::text), ('inbox_retention_days', inbox_days::text)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value
$$;
SELECT ocpp.configure_retention(30, 14);

-- The worker's periodic partition job: partitions from yesterday to `days_ahead`
-- days ahead (the archive: this month and the next), and retention by the settings.
CREATE FUNCTION ocpp.maintain_partitions(now_time timestamptz, days_ahead integer)
RETURNS TABLE (created integer, dropped integer) LANGUAGE plpgsql AS $$
DECLARE
    meter_days constant integer := (SELECT value::integer FROM ocpp.settings WHERE name = 'meter_values_retention_days');
    inbox_days constant integer := (SELECT value::integer FROM ocpp.settings WHERE name = 'inbox_retention_days');
BEGIN
    created := ocpp.create_partitions('meter_values', 'sampled_at', interval '1 day',
                                      now_time - interval '1 day', now_time + days_ahead * interval '1 day')
             + ocpp.create_partitions('inbox', 'received_at', interval '1 day',
                                      now_time - interval '1 day', now_time + days_ahead * interval '1 day')
             + ocpp.create_partitions('meter_values_archive', 'sampled_at', interval '1 month',
                                      now_time, now_time + interval '1 month');
    dropped := 0;
    IF meter_days > 0 THEN
        dropped := dropped + ocpp.drop_partitions_before('meter_values', 'sampled_at', now_time - meter_days * interval '1 day');
    END IF;
    IF inbox_days > 0 THEN
        dropped := dropped + ocpp.drop_partitions_before('inbox', 'received_at', now_time - inbox_days * interval '1 day');
    END IF;
    RETURN NEXT;
END
$$;
SELECT * FROM ocpp.maintain_partitions(now(), 7);
