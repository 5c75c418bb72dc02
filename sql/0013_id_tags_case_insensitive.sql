-- Id tags compare case-insensitively ([R2 2/5]): an IdToken is a CiString, so
-- "abc123" and "ABC123" are one tag, in ocpp.id_tags and in the ConcurrentTx check
-- on transaction_starts and transactions. What is stored keeps its case.
--
-- The folding is lower(id_tag COLLATE "C"): with the C collation lower() folds
-- only the ASCII letters A-Z, whatever the database's locale, so it is immutable
-- (indexable) and the gateway folds its cache keys exactly the same way. Id tags are
-- RFID UIDs and similar ASCII; other letters compare as stored.
--
-- The id_tags index is not unique. Rows that differ only in case may already exist,
-- with different statuses: a unique index would make this migration fail until an
-- operator merged them, and the admin API's create (ON CONFLICT (id_tag)) would
-- answer a new case variant with an error instead of its 409. The gateway's lookup
-- matches all the variants and answers the most restrictive (see
-- PostgresIdTagDirectory), so a block on one spelling cannot be bypassed with another.
CREATE INDEX id_tags_folded ON ocpp.id_tags (lower(id_tag COLLATE "C"));

-- The ConcurrentTx check's indexes (0001) now serve the folded tag; nothing else
-- filters these tables by id tag, so the plain ones go (transaction_starts is
-- written on the acknowledgement path: one index, not two).
DROP INDEX ocpp.transaction_starts_id_tag;
CREATE INDEX transaction_starts_id_tag ON ocpp.transaction_starts (lower(id_tag COLLATE "C"));
DROP INDEX ocpp.transactions_open_id_tag;
CREATE INDEX transactions_open_id_tag ON ocpp.transactions (lower(id_tag COLLATE "C")) WHERE stopped_at IS NULL;
