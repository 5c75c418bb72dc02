-- One security profile per station ([R2 2/5]): 0 (no authentication), 1 (Basic on
-- the plain port), 2 (Basic inside TLS) or 3 (a client certificate). A gateway
-- refuses a connection that offers less than the station's profile (403 before the
-- upgrade). NULL: not set, the listener's own rules apply (as before this column).
-- Read when the station connects; set over the admin API
-- (PUT /api/v1/stations/{identity}/security-profile) or here:
--   UPDATE ocpp.stations SET security_profile = 2 WHERE identity = 'CP-1';
ALTER TABLE ocpp.stations ADD COLUMN security_profile smallint CHECK (security_profile BETWEEN 0 AND 3);
