-- The posts a run of partition $day must relink (temp table lineage_scope with created_at; $first_day … $day
-- for a range of partitions: tests, backfills). A
-- partition is a collection day and may hold posts of any age, so the scope is what the partition's posts
-- can change, not a window of days (docs/lineage.md, "What a run recomputes"):
--   seeds       the partition's posts now, and the posts a previous run of it linked that it no longer holds
--               (lineage_paths.day = $day, not in posts of $day: a rerun with fewer or other files)
--   dependents  every post created at or after the earliest seed that a seed can become the parent of, or
--               whose parent can change with it: same platform music id (the first post of a music id moves),
--               same primary canonical sound, an explicit duet id naming a seed, a "#duet/#stitch with @user"
--               caption naming a seed's author; and the children the seeds had (a removed or relinked parent).
-- link_lineage runs it before replacing edges; build_cascades and adoption run it again afterwards to find
-- the trees and sounds the run touched (their consistency checks catch what only the old edges knew).
CREATE OR REPLACE TEMP TABLE scope_seed AS
SELECT post_id, created_at, lower(author) AS author, platform_music_id, TRUE AS present
FROM posts WHERE ingest_day BETWEEN $first_day AND $day
UNION ALL
SELECT post_id, created_at, lower(author), NULL, FALSE
FROM lineage_paths
WHERE day BETWEEN $first_day AND $day
  AND post_id NOT IN (SELECT post_id FROM posts WHERE ingest_day BETWEEN $first_day AND $day);

CREATE OR REPLACE TEMP TABLE lineage_scope AS
WITH seed_music AS (  -- each key from the earliest seed carrying it: only later posts can be its children
    SELECT platform_music_id, min(created_at) AS since FROM scope_seed
    WHERE platform_music_id IS NOT NULL GROUP BY ALL
),
seed_sounds AS (
    SELECT ps.sound_id, min(s.created_at) AS since
    FROM post_sounds ps JOIN scope_seed s USING (post_id) WHERE ps.role = 'primary' GROUP BY ALL
),
seed_authors AS (SELECT author, min(created_at) AS since FROM scope_seed GROUP BY ALL),
ids AS (
    SELECT post_id FROM scope_seed WHERE present
    UNION
    SELECT child_post_id FROM lineage_edges WHERE parent_post_id IN (SELECT post_id FROM scope_seed)
    UNION
    SELECT p.post_id FROM posts p JOIN seed_music m USING (platform_music_id) WHERE p.created_at >= m.since
    UNION
    SELECT p.post_id FROM posts p JOIN scope_seed s ON p.duet_from_post_id = s.post_id
    UNION
    SELECT p.post_id
    FROM post_sounds ps JOIN seed_sounds k USING (sound_id) JOIN posts p USING (post_id)
    WHERE ps.role = 'primary' AND p.created_at >= k.since
    UNION
    SELECT p.post_id
    FROM posts p
    JOIN seed_authors a
      ON a.author = lower(regexp_extract(p.caption, '(?i)(?:^|[^\w#])#?(?:duet|stitch) with @([\w.]+)', 1))
    WHERE p.caption ILIKE '%with @%' AND p.created_at >= a.since
)
SELECT p.post_id, p.created_at FROM posts p JOIN ids USING (post_id);
