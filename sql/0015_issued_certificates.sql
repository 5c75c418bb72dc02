-- Station certificates signed by the operator's CA ([R2 2/5] 6, security profile 3).
-- A station sends its CSR with SignCertificate; the worker checks it again, signs it
-- (OCPP_CA_CERTIFICATE, OCPP_CA_KEY) and queues CertificateSigned, all in the
-- transaction that applies the work row. One certificate per work row: a replayed
-- batch issues nothing twice. Listed at GET /api/v1/stations/{identity}/certificates.
CREATE TABLE ocpp.issued_certificates (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id          bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    -- The SignCertificate work row it answers.
    inbox_id            bigint NOT NULL UNIQUE,
    -- Hexadecimal, lower case, as `openssl x509 -serial` prints it.
    serial_number       text NOT NULL,
    -- RFC 4514 form, e.g. `O=Example CPO,CN=CP-1`.
    subject             text NOT NULL,
    not_before          timestamptz NOT NULL,
    not_after           timestamptz NOT NULL,
    -- SHA-256 of the DER, hexadecimal, lower case.
    sha256_fingerprint  text NOT NULL,
    pem                 text NOT NULL,
    -- The CertificateSigned command that delivers it (ocpp.station_messages).
    message_id          text NOT NULL,
    issued_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX issued_certificates_station ON ocpp.issued_certificates (station_id, id DESC);

-- What the worker made of an event, where it did something with it: for
-- SignCertificate, the certificate it issued or why it signed nothing.
ALTER TABLE ocpp.station_events ADD COLUMN detail text;
