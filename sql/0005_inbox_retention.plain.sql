-- The inbox journal is dropped after retention only once the worker has applied
-- it: a partition that still holds an unprocessed work row is kept (a worker that
-- lags, or was stopped for longer than the retention, must lose nothing).
CREATE OR REPLACE FUNCTION ocpp.drop_partitions_before(parent_table text, time_column text, cutoff timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    partition record;
    dropped integer := 0;
    has_pending boolean;
BEGIN
    FOR partition IN
        SELECT child.relname AS name,
               substring(pg_get_expr(child.relpartbound, child.oid) FROM 'TO \(''([^'']+)''\)')::timestamptz AS ends_at
        FROM pg_inherits
        JOIN pg_class child ON child.oid = pg_inherits.inhrelid
        WHERE pg_inherits.inhparent = format('ocpp.%I', parent_table)::regclass
          AND pg_get_expr(child.relpartbound, child.oid) <> 'DEFAULT'
    LOOP
        CONTINUE WHEN partition.ends_at > cutoff;
        IF parent_table = 'inbox' THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM ocpp.%I WHERE processed_at IS NULL)', partition.name)
                INTO has_pending;
            CONTINUE WHEN has_pending;
        END IF;
        EXECUTE format('DROP TABLE ocpp.%I', partition.name);
        dropped := dropped + 1;
    END LOOP;
    IF parent_table = 'inbox' THEN
        EXECUTE format('DELETE FROM ocpp.%I WHERE %I < $1 AND processed_at IS NOT NULL',
                       parent_table || '_default', time_column) USING cutoff;
    ELSE
        EXECUTE format('DELETE FROM ocpp.%I WHERE %I < $1', parent_table || '_default', time_column) USING cutoff;
    END IF;
    RETURN dropped;
END
$$;
