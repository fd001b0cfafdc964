-- v_sound_origin: view over sounds, lineage_paths, posts, sound_daily, sound_stage_changes (read by pipelines/explore.py and pipelines/report/; created by sql/schema/marts/v_sound_origin.sql)
CREATE OR REPLACE VIEW v_sound_origin AS
WITH sp AS (  -- every post counted for a canonical sound, as adoption counts it (its cascade's sound)
    SELECT coalesce(s.merged_into, lp.sound_id) AS sound_id, lp.post_id, lp.author, lp.created_at, lp.relation
    FROM lineage_paths lp
    JOIN sounds s ON s.sound_id = lp.sound_id
),
origin AS (
    SELECT s.sound_id, s.title, s.origin_post_id, p.author AS origin_author, p.created_at AS origin_created_at,
           p.stats.plays AS origin_plays, coalesce(c.root_observed, TRUE) AS origin_observed
    FROM sounds s
    LEFT JOIN posts p ON p.post_id = s.origin_post_id
    LEFT JOIN cascades c ON c.root_post_id = s.origin_post_id
    WHERE s.merged_into IS NULL
),
reusers AS (  -- creators other than the origin's, in the order they first used the sound
    SELECT sp.sound_id, sp.author, min(sp.created_at) AS first_at
    FROM sp JOIN origin o USING (sound_id)
    WHERE sp.author IS DISTINCT FROM o.origin_author
    GROUP BY ALL
),
firsts AS (
    SELECT sound_id,
           list(author ORDER BY first_at, author)[1:3] AS first_reusers,
           min(first_at) AS first_reuse_at
    FROM reusers GROUP BY ALL
),
answers AS (
    SELECT sound_id,
           arg_min(post_id, (created_at, post_id)) FILTER (WHERE relation = 'duet') AS first_duet_post_id,
           arg_min(author, (created_at, post_id)) FILTER (WHERE relation = 'duet') AS first_duet_author,
           min(created_at) FILTER (WHERE relation = 'duet') AS first_duet_at,
           arg_min(post_id, (created_at, post_id)) FILTER (WHERE relation = 'stitch') AS first_stitch_post_id,
           arg_min(author, (created_at, post_id)) FILTER (WHERE relation = 'stitch') AS first_stitch_author,
           min(created_at) FILTER (WHERE relation = 'stitch') AS first_stitch_at,
           count(*) AS n_posts,
           count(DISTINCT author) AS n_creators
    FROM sp GROUP BY ALL
),
stages AS (
    SELECT sound_id,
           min(day) AS moment_day,
           max_by(stage, day) AS stage
    FROM sound_daily GROUP BY ALL
),
reached AS (
    SELECT sound_id,
           min(day) FILTER (WHERE to_stage = 'spark') AS spark_day,
           min(day) FILTER (WHERE to_stage = 'trend') AS trend_day,
           min(day) FILTER (WHERE to_stage = 'movement') AS movement_day
    FROM sound_stage_changes GROUP BY ALL
)
SELECT o.sound_id, o.title, o.origin_post_id, o.origin_author, o.origin_created_at, o.origin_plays, o.origin_observed,
       f.first_reusers, f.first_reuse_at,
       a.first_duet_post_id, a.first_duet_author, a.first_duet_at,
       a.first_stitch_post_id, a.first_stitch_author, a.first_stitch_at,
       coalesce(a.n_posts, 0) AS n_posts, coalesce(a.n_creators, 0) AS n_creators,
       st.stage,
       st.moment_day, r.spark_day, r.trend_day, r.movement_day,
       r.spark_day - st.moment_day AS days_to_spark,
       r.trend_day - st.moment_day AS days_to_trend,
       r.movement_day - st.moment_day AS days_to_movement
FROM origin o
LEFT JOIN firsts f USING (sound_id)
LEFT JOIN answers a USING (sound_id)
LEFT JOIN stages st USING (sound_id)
LEFT JOIN reached r USING (sound_id);
COMMENT ON VIEW v_sound_origin IS 'One row per canonical sound: who started it, who picked it up first, its first duet and stitch, and how many days it took from its first day (moment) to each later stage.';
COMMENT ON COLUMN v_sound_origin.sound_id IS 'Canonical sound (sounds.merged_into IS NULL).';
COMMENT ON COLUMN v_sound_origin.title IS 'Platform title of the origin post''s sound.';
COMMENT ON COLUMN v_sound_origin.origin_post_id IS 'Earliest observed post whose audio is this sound.';
COMMENT ON COLUMN v_sound_origin.origin_author IS 'Creator of the origin post: who started it (as far as observed).';
COMMENT ON COLUMN v_sound_origin.origin_created_at IS 'When the origin post was created (UTC).';
COMMENT ON COLUMN v_sound_origin.origin_plays IS 'Plays of the origin post as exported.';
COMMENT ON COLUMN v_sound_origin.origin_observed IS 'FALSE when the origin post is evidently not the true origin (cascades.root_observed): the real start was never exported.';
COMMENT ON COLUMN v_sound_origin.first_reusers IS 'The first three other creators to post with the sound, in order.';
COMMENT ON COLUMN v_sound_origin.first_reuse_at IS 'When the first other creator posted with the sound.';
COMMENT ON COLUMN v_sound_origin.first_duet_post_id IS 'Earliest post linked to its parent as a duet in the sound''s cascades.';
COMMENT ON COLUMN v_sound_origin.first_duet_author IS 'Creator of that duet.';
COMMENT ON COLUMN v_sound_origin.first_duet_at IS 'When that duet was posted.';
COMMENT ON COLUMN v_sound_origin.first_stitch_post_id IS 'Earliest post linked to its parent as a stitch in the sound''s cascades.';
COMMENT ON COLUMN v_sound_origin.first_stitch_author IS 'Creator of that stitch.';
COMMENT ON COLUMN v_sound_origin.first_stitch_at IS 'When that stitch was posted.';
COMMENT ON COLUMN v_sound_origin.n_posts IS 'Posts counted for the sound (its cascades'' posts, merged sounds included).';
COMMENT ON COLUMN v_sound_origin.n_creators IS 'Distinct creators of those posts.';
COMMENT ON COLUMN v_sound_origin.stage IS 'Stage on the sound''s latest day in sound_daily.';
COMMENT ON COLUMN v_sound_origin.moment_day IS 'First day of the sound in sound_daily (it starts as a moment, or higher).';
COMMENT ON COLUMN v_sound_origin.spark_day IS 'First day it entered spark (sound_stage_changes); NULL if never.';
COMMENT ON COLUMN v_sound_origin.trend_day IS 'First day it entered trend; NULL if never.';
COMMENT ON COLUMN v_sound_origin.movement_day IS 'First day it entered movement; NULL if never.';
COMMENT ON COLUMN v_sound_origin.days_to_spark IS 'spark_day - moment_day, in days (0 = a spark on its first day).';
COMMENT ON COLUMN v_sound_origin.days_to_trend IS 'trend_day - moment_day, in days.';
COMMENT ON COLUMN v_sound_origin.days_to_movement IS 'movement_day - moment_day, in days.';
