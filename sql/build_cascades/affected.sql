-- build_cascades, step 1: the trees that may have changed since the last run: those holding a post of
-- partitions $first_day … $day, and those that were still growing at $since (a relinked post may have left them).
CREATE OR REPLACE TEMP TABLE cascade_roots AS
SELECT DISTINCT root_post_id FROM (
    SELECT root_post_id FROM lineage_paths WHERE day BETWEEN $first_day AND $day
    UNION ALL
    SELECT root_post_id FROM cascades WHERE last_seen >= $since
);
