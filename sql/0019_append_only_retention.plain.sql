-- Retention of the append-only journal (0017): a partition is dropped only when
-- none of its rows is after its bucket's cursor (a worker that lags, or was stopped
-- for longer than the retention, must lose nothing). Refusals go with their rows.
CREATE OR REPLACE FUNCTION ocpp.drop_partitions_before(parent_table text, time_column text, cutoff timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    partition record;
    dropped integer := 0;
    has_pending boolean;
    pending_in constant text := 'SELECT EXISTS (SELECT 1 FROM ocpp.inbox_buckets AS b JOIN ocpp.%I AS i '
        'ON ocpp.inbox_bucket(i.station_id) = b.bucket '
        'WHERE i.txid IS NOT NULL AND (i.txid, i.id) > (b.cursor_txid, b.cursor_id))';
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
            EXECUTE format(pending_in, partition.name) INTO has_pending;
            CONTINUE WHEN has_pending;
        END IF;
        EXECUTE format('DROP TABLE ocpp.%I', partition.name);
        dropped := dropped + 1;
    END LOOP;
    IF parent_table = 'inbox' THEN
        DELETE FROM ocpp.inbox_default AS i
        USING ocpp.inbox_buckets AS b
        WHERE i.received_at < cutoff AND b.bucket = ocpp.inbox_bucket(i.station_id)
          AND (i.txid IS NULL OR (i.txid, i.id) <= (b.cursor_txid, b.cursor_id));
        DELETE FROM ocpp.inbox_refusals WHERE received_at < cutoff;
    ELSE
        EXECUTE format('DELETE FROM ocpp.%I WHERE %I < $1', parent_table || '_default', time_column) USING cutoff;
    END IF;
    RETURN dropped;
END
$$;
