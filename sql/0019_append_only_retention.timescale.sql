-- Retention of the append-only journal (0017): old chunks are dropped only when no
-- row older than the cutoff is after its bucket's cursor (a worker that lags, or
-- was stopped for longer than the retention, must lose nothing). Refusals go with
-- their rows.
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
        IF NOT EXISTS (SELECT 1 FROM ocpp.inbox_pending WHERE received_at < cutoff) THEN
            dropped := (SELECT count(*) FROM drop_chunks('ocpp.inbox', older_than => cutoff));
            DELETE FROM ocpp.inbox_refusals WHERE received_at < cutoff;
        END IF;
    END IF;
    RETURN NEXT;
END
$$;
