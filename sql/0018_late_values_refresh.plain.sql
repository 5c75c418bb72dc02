-- The list of late hours the worker refreshes on the TimescaleDB path
-- (0018_late_values_refresh.timescale.sql), so that both paths have the same tables.
-- It stays empty here: ocpp.refresh_stale_hours recomputes every stale hour itself,
-- however late its values arrived.
CREATE TABLE ocpp.meter_values_late_hours (
    bucket  timestamptz PRIMARY KEY
);
