-- Rotating a station's password (security profiles 1 and 2) the whitepaper's way:
-- the central system sends ChangeConfiguration AuthorizationKey with the new key,
-- the station accepts it and reconnects with it. Until it has accepted, the new
-- password waits in pending_password_hash and the gateway takes either password,
-- so a station is never locked out by a key it has not yet received.
ALTER TABLE ocpp.stations ADD COLUMN pending_password_hash text;
ALTER TABLE ocpp.stations ADD COLUMN password_changed_at timestamptz;

-- An accepted AuthorizationKey change makes the pending password the only one.
-- The key's value leaves the queue row once the command has ended: the plain new
-- key is kept only as long as it may still have to be sent.
CREATE FUNCTION ocpp.apply_authorization_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'answered' AND NEW.response->>'status' = 'Accepted' THEN
        UPDATE ocpp.stations
        SET password_hash = pending_password_hash, pending_password_hash = NULL, password_changed_at = now(),
            updated_at = now()
        WHERE id = NEW.station_id AND pending_password_hash IS NOT NULL;
    END IF;
    NEW.payload := jsonb_set(NEW.payload, '{value}', '"(redacted)"');
    RETURN NEW;
END
$$;

CREATE TRIGGER station_messages_authorization_key
    BEFORE UPDATE OF status ON ocpp.station_messages
    FOR EACH ROW
    WHEN (NEW.action = 'ChangeConfiguration' AND NEW.payload->>'key' = 'AuthorizationKey'
          AND NEW.status NOT IN ('pending', 'sent') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION ocpp.apply_authorization_key_change();
