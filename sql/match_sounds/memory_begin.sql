-- match_sounds, around one day's matching (store.bounded_memory): cap DuckDB's buffer pool for this connection.
-- The speed passes' joins and aggregations spill to the database's temp directory beyond it instead of growing
-- the process to what they ask for (DuckDB's default is 80 % of RAM, on a machine several workers share).
SET memory_limit = $memory_limit;
