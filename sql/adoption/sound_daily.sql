-- adoption, step 1: sound_daily rows (temp table adoption_rows), incrementally, per sound from the first day
-- that can have changed through $day (the last day written, or the run's day if later):
--   * a sound a post of lineage_scope counts for (the partition's posts and what they relinked, of any age:
--     sql/link_lineage/scope.sql) from that post's created_day;
--   * a sound whose written rows disagree with lineage_paths (cum_posts on its last row is not its post count
--     up to that day: a rerun dropped posts, a post moved to another sound, a merge) or that has no rows yet,
--     from its first day;
--   * every other sound from the day after its last row (a row per day, days without posts included).
-- A post counts for its cascade's sound (lineage_paths.sound_id; a merged sound under its canonical sound),
-- on its created_day. A sound continues from its row on the day before its start (cumulative counters) and
-- from its last days' rows (7-day windows, robust_z). The stage follows config/adoption.yaml, strongest first.
-- robust_z: (x − median) / scale over the trailing window, scale = the largest of 1.4826·MAD, 1.2533·mean
-- absolute deviation (the usual fallback when MAD is 0) and one creator (counts are integers: a spread
-- below one creator is not measurable, and a flat history must not make every new creator infinite).
CREATE OR REPLACE TEMP VIEW ad_posts AS
SELECT coalesce(s.merged_into, lp.sound_id) AS sound_id, lp.post_id, lp.author,
       CAST(lp.created_at AS DATE) AS day, lp.depth, lp.parent_post_id
FROM lineage_paths lp
LEFT JOIN sounds s ON s.sound_id = lp.sound_id
WHERE lp.sound_id IS NOT NULL;

CREATE OR REPLACE TEMP TABLE ad_sounds AS
WITH written AS (
    SELECT sound_id, max(day) AS last_day, arg_max(cum_posts, day) AS cum_posts FROM sound_daily GROUP BY ALL
),
post_counts AS (
    SELECT p.sound_id, min(p.day) AS first_day, count(*) FILTER (WHERE p.day <= w.last_day) AS n_upto_last
    FROM ad_posts p LEFT JOIN written w USING (sound_id)
    GROUP BY p.sound_id
),
touched AS (
    SELECT coalesce(s.merged_into, lp.sound_id) AS sound_id, min(CAST(lp.created_at AS DATE)) AS from_day
    FROM lineage_paths lp
    JOIN lineage_scope USING (post_id)
    LEFT JOIN sounds s ON s.sound_id = lp.sound_id
    WHERE lp.sound_id IS NOT NULL
    GROUP BY 1
),
wanted AS (
    SELECT c.sound_id, c.first_day,
           CASE WHEN w.sound_id IS NULL OR c.n_upto_last <> w.cum_posts THEN c.first_day
                ELSE least(coalesce(t.from_day, w.last_day + 1), w.last_day + 1) END AS start_day
    FROM post_counts c
    LEFT JOIN written w USING (sound_id)
    LEFT JOIN touched t USING (sound_id)
)
SELECT w.sound_id, greatest(w.start_day, w.first_day) AS start_day,
       w.start_day > w.first_day AND b.sound_id IS NOT NULL AS has_base
FROM wanted w
LEFT JOIN sound_daily b ON b.sound_id = w.sound_id AND b.day = w.start_day - 1
WHERE greatest(w.start_day, w.first_day) <= $day;

CREATE OR REPLACE TEMP TABLE ad_base AS
SELECT d.* FROM sound_daily d JOIN ad_sounds s ON d.sound_id = s.sound_id AND d.day = s.start_day - 1
WHERE s.has_base;

CREATE OR REPLACE TEMP TABLE adoption_rows AS
WITH sp AS (  -- the posts to count: the sound's days being (re)computed
    SELECT p.* FROM ad_posts p JOIN ad_sounds s USING (sound_id) WHERE p.day BETWEEN s.start_day AND $day
),
used_before AS (
    SELECT DISTINCT p.sound_id, p.author
    FROM ad_posts p
    JOIN ad_sounds s USING (sound_id)
    JOIN (SELECT DISTINCT sound_id, author FROM sp) q USING (sound_id, author)
    WHERE p.day < s.start_day
),
first_use AS (
    SELECT sp.sound_id, sp.author, min(sp.day) AS day
    FROM sp ANTI JOIN used_before u ON u.sound_id = sp.sound_id AND u.author = sp.author
    WHERE sp.author IS NOT NULL  -- a format without authors (records.FORMATS_WITHOUT_AUTHOR): not a creator
    GROUP BY ALL
),
creators_per_day AS (
    SELECT sound_id, day, count(*) AS new_creators FROM first_use GROUP BY ALL
),
branch_days AS (  -- a branch: a non-root post that drew an answer; it counts from its first answer's day
    SELECT hub.sound_id, min(child.day) AS day
    FROM ad_posts child JOIN ad_posts hub ON child.parent_post_id = hub.post_id
    WHERE hub.depth > 0 AND hub.post_id IN (SELECT parent_post_id FROM sp)
    GROUP BY hub.post_id, hub.sound_id
),
branches_per_day AS (
    SELECT b.sound_id, b.day, count(*) AS new_branches
    FROM branch_days b JOIN ad_sounds s USING (sound_id) WHERE b.day BETWEEN s.start_day AND $day GROUP BY ALL
),
posts_per_day AS (
    SELECT sound_id, day, count(*) AS new_posts, max(depth) AS deepest FROM sp GROUP BY ALL
),
grid AS (
    SELECT sound_id, CAST(unnest(range(start_day, $day + 1, INTERVAL 1 DAY)) AS DATE) AS day FROM ad_sounds
),
counts AS (
    SELECT g.sound_id, g.day, TRUE AS fresh,
           coalesce(p.new_posts, 0) AS new_posts,
           coalesce(c.new_creators, 0) AS new_creators,
           coalesce(b.new_branches, 0) AS new_branches,
           coalesce(p.deepest, 0) AS deepest
    FROM grid g
    LEFT JOIN posts_per_day p USING (sound_id, day)
    LEFT JOIN creators_per_day c USING (sound_id, day)
    LEFT JOIN branches_per_day b USING (sound_id, day)
    UNION ALL  -- the days already written, for the trailing windows
    SELECT d.sound_id, d.day, FALSE, d.new_posts, d.new_creators, 0, 0
    FROM sound_daily d JOIN ad_sounds s USING (sound_id)
    WHERE s.has_base AND d.day BETWEEN s.start_day - greatest(14, $z_window) AND s.start_day - 1
),
series AS (  -- per sound, new creators of every day in order: the days already written, then the new ones
    SELECT sound_id, min(day) AS series_start, list(new_creators ORDER BY day) AS xs FROM counts GROUP BY sound_id
),
windows AS (  -- trailing windows by slicing each sound's series (only the recomputed days pay for them)
    SELECT c.* EXCLUDE (fresh, xs, pos),
           coalesce(base.base_posts, 0) + sum(c.new_posts) OVER w_upto AS cum_posts,
           coalesce(base.base_creators, 0) + sum(c.new_creators) OVER w_upto AS cum_creators,
           coalesce(base.base_branches, 0) + sum(c.new_branches) OVER w_upto AS branches,
           greatest(coalesce(base.base_depth, 0), max(c.deepest) OVER w_upto) AS max_depth,
           list_sum(list_slice(c.xs, greatest(1, c.pos - 6), c.pos)) AS creators_7d,
           CASE WHEN c.pos > 7 THEN list_sum(list_slice(c.xs, greatest(1, c.pos - 13), c.pos - 7)) ELSE 0 END AS creators_prev_7d,
           CASE WHEN c.pos > 1 THEN list_slice(c.xs, greatest(1, c.pos - $z_window), c.pos - 1) ELSE []::BIGINT[] END AS trail
    FROM (SELECT c.*, s.xs, datediff('day', s.series_start, c.day) + 1 AS pos
          FROM counts c JOIN series s USING (sound_id) WHERE c.fresh) c
    LEFT JOIN (SELECT sound_id, cum_posts AS base_posts, cum_creators AS base_creators, branches AS base_branches,
                      max_depth AS base_depth FROM ad_base) base USING (sound_id)
    WINDOW w_upto AS (PARTITION BY c.sound_id ORDER BY c.day ROWS UNBOUNDED PRECEDING)
),
stats AS (
    SELECT *, list_aggregate(trail, 'median') AS trail_median, list_aggregate(trail, 'mad') AS trail_mad,
           list_avg(trail) AS trail_mean
    FROM windows
),
scored AS (
    SELECT *,
           CASE WHEN len(trail) >= $z_min_days
                THEN (new_creators - trail_median)
                     / greatest(1.4826 * trail_mad,
                                1.2533 * list_avg(list_transform(trail, lambda v: abs(v - trail_mean))),
                                1.0)
           END AS robust_z
    FROM stats
)
SELECT sound_id, day, new_posts, new_creators, cum_posts, cum_creators,
       CASE WHEN creators_prev_7d > 0 THEN creators_7d / creators_prev_7d END AS growth_7d,
       robust_z,
       CASE
           WHEN cum_creators >= $movement_min_creators
                AND (max_depth >= $movement_min_depth OR branches >= $movement_min_branches)
                AND creators_7d >= $movement_min_new_creators_7d THEN 'movement'
           WHEN new_creators >= $trend_min_new_creators_day
                AND creators_7d >= $trend_growth_ratio * creators_prev_7d THEN 'trend'
           WHEN cum_creators >= $spark_min_creators THEN 'spark'
           ELSE 'moment'
       END AS stage,
       creators_7d, creators_prev_7d, max_depth, branches
FROM scored;
