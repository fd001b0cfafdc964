-- match_sounds: back to DuckDB's defaults after a candidate lookup (lookup_begin.sql,
-- lookup_landmarks_begin.sql), so other joins on this connection plan as before.
RESET dynamic_or_filter_threshold;
RESET index_scan_max_count;
RESET index_scan_percentage;
