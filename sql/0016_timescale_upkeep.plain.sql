-- Nothing to change on the plain path: its hourly rollup is a table the worker
-- recomputes hour by hour, and its retention is the worker's partition job
-- (0016_timescale_upkeep.timescale.sql fixes the TimescaleDB path).
SELECT 1;
