-- What a station sends is stored as sent and answered afresh ([R2 1/5]).

-- Each station's validation mode: 'strict' (the OCPP 1.6 schemas) or 'tolerant'
-- (also the known quirks of real chargers, normalized); NULL follows the gateway's
-- OCPP_VALIDATION_MODE. Read when the station connects.
ALTER TABLE ocpp.stations ADD COLUMN validation_mode text CHECK (validation_mode IN ('strict', 'tolerant'));

-- Receipts now deduplicate only the transaction messages (StartTransaction,
-- StopTransaction, MeterValues), by content: station, action and payload digest,
-- whatever the unique id (chargers that give every retry a new id). Every other
-- action is answered afresh and journaled each time, so its receipts go. The old
-- rows were keyed by unique id and cannot be carried over: a transaction message
-- resent across the upgrade is journaled once more (its transaction id still comes
-- from transaction_starts, so StartTransaction keeps its answer).
TRUNCATE ocpp.inbox_receipts;
ALTER TABLE ocpp.inbox_receipts RENAME COLUMN message_id TO action;

-- Two sampled values that differ in any field are two rows: a retransmitted
-- message is journaled once (its receipt) and each journal row is applied once (in
-- the transaction that marks it processed), so the sample-level replay key, which
-- collapsed samples that differ only in unit or transaction, goes.
DROP INDEX ocpp.meter_values_sample_key;

-- The archive copy runs over a window that overlaps the previous run's. It copied
-- once thanks to the same sample key; now a message's samples are recognised by
-- what they share, (station, sample time, receive time): one worker transaction
-- inserts all of a message's samples, so such a group is in the archive entirely
-- or not at all.
DROP INDEX ocpp.meter_values_archive_sample_key;
CREATE INDEX meter_values_archive_message ON ocpp.meter_values_archive (station_id, sampled_at, received_at);

CREATE OR REPLACE FUNCTION ocpp.archive_meter_values(from_time timestamptz, to_time timestamptz)
RETURNS bigint LANGUAGE sql AS $$
    WITH copied AS (
        INSERT INTO ocpp.meter_values_archive
        SELECT m.* FROM ocpp.meter_values AS m
        WHERE m.sampled_at >= from_time AND m.sampled_at < to_time
          AND NOT EXISTS (
              SELECT 1 FROM ocpp.meter_values_archive AS a
              WHERE a.station_id = m.station_id AND a.sampled_at = m.sampled_at AND a.received_at = m.received_at)
        RETURNING 1
    )
    SELECT count(*) FROM copied
$$;
