-- match_sounds: DuckDB's default memory limit again after the day's matching (memory_begin.sql).
RESET memory_limit;
