-- match_sounds, around the Chromaprint candidate query: let DuckDB read only the postings of the chunk's keys.
-- A hash join whose build side (the chunk's q_items) has at most dynamic_or_filter_threshold rows pushes the
-- set of its keys into the postings scan as an IN filter; with the ART index match_postings_key that scan
-- becomes index lookups as long as they return at most max(index_scan_max_count, index_scan_percentage x
-- postings) rows, and DuckDB falls back to the plain scan otherwise (a big chunk against a small index, where
-- scanning is cheaper). Thresholds measured with scripts/bench_matching.py --scale (docs/matching.md).
SET dynamic_or_filter_threshold = 4096;   -- chunks of up to 4096 items try the index (bench: 16 queries = 960)
SET index_scan_max_count = 0;              -- no fixed floor: a small index is always scanned (cheaper there)
SET index_scan_percentage = 0.001;         -- index lookups while they return <= 0.1 % of the postings
