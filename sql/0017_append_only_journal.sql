-- The inbox journal becomes append-only ([R2 5/5] point 2). Applying a batch used
-- to rewrite every journal row it applied (`processed_at`), a new version of a
-- ~1.5 KB row with all its index entries, for each message. Now the journal is
-- only ever inserted into; what has been applied is a cursor per bucket of
-- stations, in a 64-row table.
--
-- Buckets. Every station belongs to one bucket (its id modulo 64). A worker leases
-- buckets by locking their rows (`FOR UPDATE SKIP LOCKED`) in the transaction that
-- applies their rows and advances their cursors: several workers share the buckets
-- without waiting for each other, a station's messages are applied by one worker
-- at a time and in order, and a worker killed mid-batch releases its leases with
-- its connection, its cursors unmoved. The same shape maps one bucket onto one
-- shard of a distributed PostgreSQL, where a claim across stations could not run.
--
-- The cursor's order. Journal ids come from a sequence, and a gateway transaction
-- that took id 100 can commit after one that took id 101: a cursor on ids alone
-- could pass 100 before it is visible and skip it for ever. So each row carries the
-- id of the transaction that wrote it (`txid`, 64-bit, never wrapping), the cursor
-- is (txid, id), and a worker applies only rows whose transaction is older than
-- every transaction still running (`pg_snapshot_xmin`): no row can appear behind
-- the cursor later. A station's next message is received only after its previous
-- one was committed and answered, so it has a later txid and a later id: the
-- cursor's order keeps each station's order. The price: a long transaction that
-- writes anything holds back the journal until it ends (see docs/WORKER.md).
CREATE FUNCTION ocpp.inbox_bucket(station_id bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (station_id % 64)::integer $$;

CREATE TABLE ocpp.inbox_buckets (
    bucket       integer PRIMARY KEY CHECK (bucket >= 0 AND bucket < 64),
    -- The last row applied: (txid, id). '0' is before every transaction.
    cursor_txid  xid8 NOT NULL DEFAULT '0',
    cursor_id    bigint NOT NULL DEFAULT 0,
    -- When the bucket's cursor last moved: leases go to the longest-waiting first.
    applied_at   timestamptz
);
INSERT INTO ocpp.inbox_buckets (bucket) SELECT generate_series(0, 63);

-- Existing rows: the applied ones keep no txid (NULL is never after a cursor, and
-- the index below leaves them out); the ones not applied yet get '1', before every
-- real transaction id (they start at 3), so they are applied first, in id order.
-- Adding the column without a default and setting the default afterwards rewrites
-- no row; the gateways' inserts wait for this migration's lock, then get the
-- default.
ALTER TABLE ocpp.inbox ADD COLUMN txid xid8;
UPDATE ocpp.inbox SET txid = '1' WHERE processed_at IS NULL;
ALTER TABLE ocpp.inbox ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
CREATE INDEX inbox_bucket_order ON ocpp.inbox (ocpp.inbox_bucket(station_id), txid, id) WHERE txid IS NOT NULL;

-- A row the worker could not apply is recorded here instead of in the journal row.
CREATE TABLE ocpp.inbox_refusals (
    inbox_id     bigint PRIMARY KEY,
    received_at  timestamptz NOT NULL,
    refused_at   timestamptz NOT NULL DEFAULT now(),
    error        text NOT NULL
);
INSERT INTO ocpp.inbox_refusals (inbox_id, received_at, refused_at, error)
SELECT id, received_at, coalesce(processed_at, now()), apply_error FROM ocpp.inbox WHERE apply_error IS NOT NULL;

-- The columns go rather than stay unused: a worker of the previous version, still
-- running during an upgrade, now fails to claim instead of applying rows a second
-- time by the old rule.
DROP INDEX ocpp.inbox_unprocessed;
ALTER TABLE ocpp.inbox DROP COLUMN processed_at;
ALTER TABLE ocpp.inbox DROP COLUMN apply_error;

-- The journal rows not applied yet (for operators, the lag metric and tests).
CREATE VIEW ocpp.inbox_pending AS
SELECT i.*
FROM ocpp.inbox_buckets AS b
JOIN ocpp.inbox AS i ON ocpp.inbox_bucket(i.station_id) = b.bucket
WHERE i.txid IS NOT NULL AND (i.txid, i.id) > (b.cursor_txid, b.cursor_id);

-- A refused row is applied again by journaling a copy of it, which the workers
-- apply as new (after fixing what made it fail). Returns the copy's id.
CREATE FUNCTION ocpp.requeue_refused(refused_id bigint) RETURNS bigint LANGUAGE sql AS $$
    WITH refused AS (
        DELETE FROM ocpp.inbox_refusals WHERE inbox_id = refused_id RETURNING inbox_id, received_at
    )
    INSERT INTO ocpp.inbox (received_at, gateway_id, station_id, kind, action, message_id,
                            payload_digest, payload, response, station_time)
    SELECT i.received_at, i.gateway_id, i.station_id, i.kind, i.action, i.message_id,
           i.payload_digest, i.payload, i.response, i.station_time
    FROM ocpp.inbox AS i JOIN refused AS r ON i.id = r.inbox_id AND i.received_at = r.received_at
    RETURNING id
$$;
