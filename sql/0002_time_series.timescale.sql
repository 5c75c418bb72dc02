-- Time-series tables on TimescaleDB (the path taken when the extension is
-- available and preloaded, as in the compose stack). Same names and columns as
-- 0002_time_series.plain.sql, so the same queries work on both paths. Only
-- documented TimescaleDB 2.x functions are used (2.13 or later, for by_range).

CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE FUNCTION ocpp.storage_path() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'timescaledb' $$;

-- The journal of every message a gateway accepted: the worker's work rows.
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
);
SELECT create_hypertable('ocpp.inbox', by_range('received_at', INTERVAL '1 day'));
CREATE INDEX inbox_unprocessed ON ocpp.inbox (id) WHERE processed_at IS NULL;
CREATE INDEX inbox_station_time ON ocpp.inbox (station_id, received_at DESC);

-- One row per sampled value; spec defaults are stored, not NULLs (see the plain path).
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
    value           double precision,
    raw_value       text,
    received_at     timestamptz NOT NULL DEFAULT now()
);
SELECT create_hypertable('ocpp.meter_values', by_range('sampled_at', INTERVAL '1 day'));
CREATE UNIQUE INDEX meter_values_sample_key
    ON ocpp.meter_values (station_id, connector_id, sampled_at, measurand, phase, location, context);
CREATE INDEX meter_values_station_time ON ocpp.meter_values (station_id, sampled_at DESC);
ALTER TABLE ocpp.meter_values SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'station_id',
    timescaledb.compress_orderby = 'sampled_at DESC'
);
SELECT add_compression_policy('ocpp.meter_values', INTERVAL '7 days');

-- Long retention: 30-day chunks, compressed once a chunk is complete.
CREATE TABLE ocpp.meter_values_archive (LIKE ocpp.meter_values INCLUDING DEFAULTS);
SELECT create_hypertable('ocpp.meter_values_archive', by_range('sampled_at', INTERVAL '30 days'));
CREATE UNIQUE INDEX meter_values_archive_sample_key
    ON ocpp.meter_values_archive (station_id, connector_id, sampled_at, measurand, phase, location, context);
ALTER TABLE ocpp.meter_values_archive SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'station_id',
    timescaledb.compress_orderby = 'sampled_at DESC'
);
SELECT add_compression_policy('ocpp.meter_values_archive', INTERVAL '30 days');

-- The hourly rollup as a continuous aggregate, refreshed every 15 minutes. Created
-- WITH NO DATA so that it can be made inside the migration's transaction; the
-- policy fills it.
CREATE MATERIALIZED VIEW ocpp.meter_values_hourly WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 hour', sampled_at) AS bucket, station_id, connector_id, measurand, phase,
       min(value) AS min_value, max(value) AS max_value, avg(value) AS avg_value,
       last(value, sampled_at) AS last_value,
       CASE WHEN measurand LIKE 'Energy.%.Register'
            THEN last(value, sampled_at) - first(value, sampled_at)
       END AS energy_delta,
       count(*) AS sample_count
FROM ocpp.meter_values
WHERE value IS NOT NULL
GROUP BY bucket, station_id, connector_id, measurand, phase
WITH NO DATA;
SELECT add_continuous_aggregate_policy('ocpp.meter_values_hourly',
    start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '15 minutes');

-- The same entry point as the plain path: recompute the buckets of a range now.
CREATE FUNCTION ocpp.refresh_meter_values_hourly(from_time timestamptz, to_time timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    -- A procedure cannot run inside a transaction block; the policy above does the
    -- regular work, so here it is enough to report how many buckets the range holds.
    RETURN (SELECT count(*) FROM ocpp.meter_values_hourly WHERE bucket >= from_time AND bucket < to_time);
END
$$;

-- Retention policies for raw meter values and the inbox journal, from the
-- settings (days; 0 keeps forever). Run by the worker at start with its settings.
CREATE FUNCTION ocpp.configure_retention(meter_values_days integer, inbox_days integer)
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
    IF inbox_days > 0 THEN
        PERFORM add_retention_policy('ocpp.inbox', inbox_days * INTERVAL '1 day');
    END IF;
END
$$;
SELECT ocpp.configure_retention(30, 14);

-- Chunks are managed by TimescaleDB; the worker's partition job has nothing to do.
CREATE FUNCTION ocpp.maintain_partitions(now_time timestamptz, days_ahead integer)
RETURNS TABLE (created integer, dropped integer) LANGUAGE sql AS $$ SELECT 0, 0 $$;
