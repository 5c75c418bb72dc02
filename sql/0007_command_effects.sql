-- What operators expect to see from the answers to their commands: a station's
-- configuration, its local list version, reservations, the files it uploads, its
-- installed certificates. Applied by a trigger when a command becomes 'answered',
-- so it holds whoever records the answer (the gateway today), in the same
-- transaction as the answer itself.

-- GetConfiguration fills it; an accepted ChangeConfiguration updates the value.
CREATE TABLE ocpp.station_configuration (
    station_id  bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    key         text NOT NULL,
    value       text,
    -- NULL until a GetConfiguration has said.
    readonly    boolean,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, key)
);

-- GetLocalListVersion and an accepted SendLocalList.
ALTER TABLE ocpp.stations ADD COLUMN local_list_version bigint;

-- An accepted ReserveNow makes or replaces a reservation; an accepted
-- CancelReservation cancels it.
CREATE TABLE ocpp.reservations (
    station_id      bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    reservation_id  bigint NOT NULL,
    connector_id    bigint NOT NULL,
    id_tag          text NOT NULL,
    parent_id_tag   text,
    expiry_date     timestamptz NOT NULL,
    status          text NOT NULL CHECK (status IN ('Reserved', 'Cancelled')),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, reservation_id)
);

-- The file a GetDiagnostics or GetLog will upload, as the station named it.
CREATE TABLE ocpp.station_files (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id  bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    message_id  text NOT NULL UNIQUE,
    kind        text NOT NULL CHECK (kind IN ('diagnostics', 'log')),
    file_name   text NOT NULL,
    location    text,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX station_files_station ON ocpp.station_files (station_id, recorded_at DESC);

-- The certificates of one type a GetInstalledCertificateIds last reported.
CREATE TABLE ocpp.installed_certificates (
    station_id        bigint NOT NULL REFERENCES ocpp.stations (id) ON DELETE CASCADE,
    certificate_type  text NOT NULL,
    hash_algorithm    text NOT NULL,
    issuer_name_hash  text NOT NULL,
    issuer_key_hash   text NOT NULL,
    serial_number     text NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, certificate_type, hash_algorithm, issuer_name_hash, issuer_key_hash, serial_number)
);

CREATE FUNCTION ocpp.apply_command_effects() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    accepted constant boolean := NEW.response->>'status' = 'Accepted';
BEGIN
    CASE NEW.action
    WHEN 'GetConfiguration' THEN
        INSERT INTO ocpp.station_configuration AS c (station_id, key, value, readonly)
        SELECT NEW.station_id, kv->>'key', kv->>'value', (kv->>'readonly')::boolean
        FROM jsonb_array_elements(coalesce(NEW.response->'configurationKey', '[]')) AS kv
        ON CONFLICT (station_id, key) DO UPDATE
            SET value = excluded.value, readonly = excluded.readonly, updated_at = now();
    WHEN 'ChangeConfiguration' THEN
        IF NEW.response->>'status' IN ('Accepted', 'RebootRequired') THEN
            INSERT INTO ocpp.station_configuration AS c (station_id, key, value)
            VALUES (NEW.station_id, NEW.payload->>'key', NEW.payload->>'value')
            ON CONFLICT (station_id, key) DO UPDATE SET value = excluded.value, updated_at = now();
        END IF;
    WHEN 'GetLocalListVersion' THEN
        UPDATE ocpp.stations SET local_list_version = (NEW.response->>'listVersion')::bigint
        WHERE id = NEW.station_id;
    WHEN 'SendLocalList' THEN
        IF accepted THEN
            UPDATE ocpp.stations SET local_list_version = (NEW.payload->>'listVersion')::bigint
            WHERE id = NEW.station_id;
        END IF;
    WHEN 'ReserveNow' THEN
        IF accepted THEN
            INSERT INTO ocpp.reservations (station_id, reservation_id, connector_id, id_tag, parent_id_tag,
                                           expiry_date, status)
            VALUES (NEW.station_id, (NEW.payload->>'reservationId')::bigint, (NEW.payload->>'connectorId')::bigint,
                    NEW.payload->>'idTag', NEW.payload->>'parentIdTag', (NEW.payload->>'expiryDate')::timestamptz,
                    'Reserved')
            ON CONFLICT (station_id, reservation_id) DO UPDATE SET
                connector_id = excluded.connector_id, id_tag = excluded.id_tag,
                parent_id_tag = excluded.parent_id_tag, expiry_date = excluded.expiry_date, status = 'Reserved',
                updated_at = now();
        END IF;
    WHEN 'CancelReservation' THEN
        IF accepted THEN
            UPDATE ocpp.reservations SET status = 'Cancelled', updated_at = now()
            WHERE station_id = NEW.station_id AND reservation_id = (NEW.payload->>'reservationId')::bigint;
        END IF;
    WHEN 'GetDiagnostics' THEN
        IF NEW.response->>'fileName' IS NOT NULL THEN
            INSERT INTO ocpp.station_files (station_id, message_id, kind, file_name, location)
            VALUES (NEW.station_id, NEW.message_id, 'diagnostics', NEW.response->>'fileName', NEW.payload->>'location')
            ON CONFLICT (message_id) DO NOTHING;
        END IF;
    WHEN 'GetLog' THEN
        IF NEW.response->>'filename' IS NOT NULL THEN
            INSERT INTO ocpp.station_files (station_id, message_id, kind, file_name, location)
            VALUES (NEW.station_id, NEW.message_id, 'log', NEW.response->>'filename',
                    NEW.payload->'log'->>'remoteLocation')
            ON CONFLICT (message_id) DO NOTHING;
        END IF;
    WHEN 'GetInstalledCertificateIds' THEN
        DELETE FROM ocpp.installed_certificates
        WHERE station_id = NEW.station_id AND certificate_type = NEW.payload->>'certificateType';
        INSERT INTO ocpp.installed_certificates (station_id, certificate_type, hash_algorithm, issuer_name_hash,
                                                 issuer_key_hash, serial_number)
        SELECT DISTINCT NEW.station_id, NEW.payload->>'certificateType', h->>'hashAlgorithm', h->>'issuerNameHash',
               h->>'issuerKeyHash', h->>'serialNumber'
        FROM jsonb_array_elements(coalesce(NEW.response->'certificateHashData', '[]')) AS h;
    ELSE
        NULL;
    END CASE;
    RETURN NULL;
EXCEPTION WHEN data_exception THEN
    -- A value the table cannot hold (a reservation id past 64 bits, say) must not
    -- undo the recording of the answer itself.
    RAISE WARNING 'effects of % % not recorded: %', NEW.action, NEW.message_id, SQLERRM;
    RETURN NULL;
END
$$;

CREATE TRIGGER station_messages_effects
    AFTER UPDATE OF status ON ocpp.station_messages
    FOR EACH ROW WHEN (NEW.status = 'answered' AND OLD.status IS DISTINCT FROM 'answered')
    EXECUTE FUNCTION ocpp.apply_command_effects();
