-- The domain tables of the central system, common to both deployments
-- (TimescaleDB and plain PostgreSQL). The time-series tables (meter values, the
-- inbox journal and their rollups) are in 0002, which has one variant per path.

CREATE SCHEMA IF NOT EXISTS ocpp;

-- Transaction ids handed to charge points in StartTransaction.conf. OCPP 1.6 types
-- transactionId as a JSON integer, which chargers keep in 32 bits, so the sequence
-- is an int4 sequence.
CREATE SEQUENCE ocpp.transaction_id_seq AS integer START WITH 1 NO CYCLE;

CREATE TABLE ocpp.stations (
    id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    identity                  text NOT NULL UNIQUE CHECK (length(identity) BETWEEN 1 AND 48),
    vendor                    text,
    model                     text,
    serial_number             text,
    charge_box_serial_number  text,
    firmware_version          text,
    iccid                     text,
    imsi                      text,
    meter_type                text,
    meter_serial_number       text,
    registration_status       text NOT NULL DEFAULT 'Pending'
                              CHECK (registration_status IN ('Accepted', 'Pending', 'Rejected')),
    last_boot_at              timestamptz,
    last_seen_at              timestamptz,
    -- Security profile 1/2 credentials: a salted, slow hash of the AuthorizationKey,
    -- never the key itself. NULL means no password is set.
    password_hash             text,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);

-- Connector 0 is the charge point as a whole (StatusNotification allows it).
CREATE TABLE ocpp.connectors (
    station_id         bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    connector_id       integer NOT NULL CHECK (connector_id >= 0),
    status             text,
    error_code         text,
    info               text,
    vendor_id          text,
    vendor_error_code  text,
    -- The station's own timestamp of the status; the newest one wins.
    status_at          timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, connector_id)
);

-- Every StatusNotification, for uptime reports. A replayed notification maps to
-- the same key and inserts nothing.
CREATE TABLE ocpp.status_events (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id         bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    connector_id       integer NOT NULL CHECK (connector_id >= 0),
    status             text NOT NULL,
    error_code         text NOT NULL,
    info               text,
    vendor_id          text,
    vendor_error_code  text,
    status_at          timestamptz NOT NULL,
    received_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (station_id, connector_id, status_at, status, error_code)
);
CREATE INDEX status_events_station_time ON ocpp.status_events (station_id, status_at DESC);

CREATE TABLE ocpp.id_tags (
    id_tag         text PRIMARY KEY CHECK (length(id_tag) BETWEEN 1 AND 20),
    status         text NOT NULL DEFAULT 'Accepted'
                   CHECK (status IN ('Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx')),
    expiry_date    timestamptz,
    parent_id_tag  text CHECK (length(parent_id_tag) <= 20),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The content key of StartTransaction: a charger that retries a start, even with a
-- new message id, gets the transaction id it was given the first time. The gateway
-- allocates here (INSERT ... ON CONFLICT) in its batch statement; the worker merges
-- starts and stops into ocpp.transactions.
CREATE TABLE ocpp.transaction_starts (
    station_id      bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    connector_id    integer NOT NULL,
    id_tag          text NOT NULL,
    started_at      timestamptz NOT NULL,
    meter_start     bigint NOT NULL,
    transaction_id  integer NOT NULL UNIQUE DEFAULT nextval('ocpp.transaction_id_seq'),
    allocated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, connector_id, id_tag, started_at, meter_start)
);
-- For the gateway's ConcurrentTx check (open transactions of an id tag).
CREATE INDEX transaction_starts_id_tag ON ocpp.transaction_starts (id_tag);

CREATE TABLE ocpp.transactions (
    id                 integer PRIMARY KEY,
    station_id         bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    -- NULL until the start is known: a stop may arrive before its start.
    connector_id       integer,
    id_tag             text,
    reservation_id     integer,
    meter_start        bigint,
    started_at         timestamptz,
    meter_stop         bigint,
    stopped_at         timestamptz,
    stop_id_tag        text,
    stop_reason        text,
    status             text NOT NULL GENERATED ALWAYS AS
                       (CASE WHEN stopped_at IS NULL THEN 'Active' ELSE 'Completed' END) STORED,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transactions_station_status ON ocpp.transactions (station_id, status);
CREATE INDEX transactions_open_id_tag ON ocpp.transactions (id_tag) WHERE stopped_at IS NULL;

-- Retransmission dedup: a CALL is identified by station, unique id and a digest of
-- its payload (chargers reuse ids after a reboot, so the id alone is no key). The
-- gateway records the answer it gave; a resend gets the same answer and no second
-- effect. Kept small and unpartitioned, pruned after a few days by the worker; the
-- inbox journal itself is partitioned by time, which a unique key there could not
-- span.
CREATE TABLE ocpp.inbox_receipts (
    station_id      bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    message_id      text NOT NULL,
    payload_digest  bytea NOT NULL,
    response        jsonb,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, message_id, payload_digest)
);
CREATE INDEX inbox_receipts_received_at ON ocpp.inbox_receipts (received_at);

-- The durable queue of Central-System-initiated CALLs.
CREATE TABLE ocpp.station_messages (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id         bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    -- The OCPP unique id used on the wire.
    message_id         text NOT NULL UNIQUE DEFAULT gen_random_uuid()::text,
    action             text NOT NULL,
    payload            jsonb NOT NULL,
    status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'sent', 'answered', 'failed', 'timed_out', 'expired',
                                         'cancelled', 'replaced')),
    -- Enqueuing a command with the key of a pending one replaces it.
    collapse_key       text,
    attempts           integer NOT NULL DEFAULT 0,
    not_before         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    sent_at            timestamptz,
    sent_by_gateway    text,
    answered_at        timestamptz,
    response           jsonb,
    error_code         text,
    error_description  text
);
CREATE INDEX station_messages_station_status ON ocpp.station_messages (station_id, status, id);
CREATE UNIQUE INDEX station_messages_pending_collapse_key
    ON ocpp.station_messages (station_id, collapse_key)
    WHERE status = 'pending' AND collapse_key IS NOT NULL;

CREATE TABLE ocpp.gateways (
    gateway_id    text PRIMARY KEY,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

-- Which gateway holds each station's live WebSocket; one row per identity, so a
-- new connection replaces the old one wherever it lives.
CREATE TABLE ocpp.station_sessions (
    station_id      bigint PRIMARY KEY REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    gateway_id      text NOT NULL REFERENCES ocpp.gateways (gateway_id) ON DELETE CASCADE,
    session_id      uuid NOT NULL,
    remote_address  text,
    connected_at    timestamptz NOT NULL DEFAULT now(),
    -- Station clock minus gateway clock, from the timestamps the station sends.
    clock_offset_ms bigint
);
CREATE INDEX station_sessions_gateway ON ocpp.station_sessions (gateway_id);

-- Settings the database keeps for its own jobs (retention on the plain path).
CREATE TABLE ocpp.settings (
    name   text PRIMARY KEY,
    value  text NOT NULL
);
