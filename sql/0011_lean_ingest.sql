-- The gateway's batch statement is on every acknowledgement's path, so what it
-- writes should cost the database as little as possible.
--
-- The inbox keeps payloads as `json`: PostgreSQL only checks the text, where
-- `jsonb` parses it into a tree (for a MeterValues with ten sampled values, most of
-- the statement's time). The worker converts each payload to `jsonb` once, when it
-- applies the row, off the acknowledgement path. The text is also exactly what the
-- payload digest was taken of.
ALTER TABLE ocpp.inbox ALTER COLUMN payload TYPE json USING payload::json;

-- A receipt's station reference was checked by a trigger per row, and stations are
-- never deleted (ids are not reused): the gateway takes the id from the stations
-- table itself, and the pruning job removes receipts by age.
ALTER TABLE ocpp.inbox_receipts DROP CONSTRAINT inbox_receipts_station_id_fkey;

-- Receipts arrive in receive-time order and are pruned by age: a BRIN index serves
-- the pruning and costs next to nothing per insert, unlike a B-tree.
DROP INDEX ocpp.inbox_receipts_received_at;
CREATE INDEX inbox_receipts_received_at ON ocpp.inbox_receipts USING brin (received_at);
