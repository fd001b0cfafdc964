-- Sounds that changed stage that day (entering as a moment is not news: a sound's first day counts when it
-- enters higher), with their origin story as of that day: reusers, first duet and stitch, counts and the days
-- to each stage only from posts and changes up to $day (v_sound_origin tells the story up to the latest run).
WITH changed AS (
    SELECT sound_id, from_stage, to_stage
    FROM sound_stage_changes
    WHERE day = $day AND (from_stage IS NOT NULL OR to_stage <> 'moment')
),
sp AS (
    SELECT coalesce(s.merged_into, lp.sound_id) AS sound_id, lp.post_id, lp.author, lp.created_at, lp.relation
    FROM lineage_paths lp
    JOIN sounds s ON s.sound_id = lp.sound_id
    WHERE CAST(lp.created_at AS DATE) <= $day
),
reusers AS (
    SELECT sp.sound_id, sp.author, min(sp.created_at) AS first_at
    FROM sp JOIN v_sound_origin o ON o.sound_id = sp.sound_id
    WHERE sp.sound_id IN (SELECT sound_id FROM changed) AND sp.author IS DISTINCT FROM o.origin_author
    GROUP BY ALL
),
firsts AS (
    SELECT sound_id, list(author ORDER BY first_at, author)[1:3] AS first_reusers, min(first_at) AS first_reuse_at
    FROM reusers GROUP BY ALL
),
answers AS (
    SELECT sound_id,
           arg_min(post_id, (created_at, post_id)) FILTER (WHERE relation = 'duet') AS first_duet_post_id,
           arg_min(author, (created_at, post_id)) FILTER (WHERE relation = 'duet') AS first_duet_author,
           min(created_at) FILTER (WHERE relation = 'duet') AS first_duet_at,
           arg_min(post_id, (created_at, post_id)) FILTER (WHERE relation = 'stitch') AS first_stitch_post_id,
           arg_min(author, (created_at, post_id)) FILTER (WHERE relation = 'stitch') AS first_stitch_author,
           min(created_at) FILTER (WHERE relation = 'stitch') AS first_stitch_at
    FROM sp WHERE sound_id IN (SELECT sound_id FROM changed) GROUP BY ALL
)
SELECT c.from_stage, c.to_stage, o.sound_id, o.title, o.origin_post_id, o.origin_author, o.origin_created_at,
       o.origin_plays, o.origin_observed, f.first_reusers, f.first_reuse_at,
       a.first_duet_post_id, a.first_duet_author, a.first_duet_at,
       a.first_stitch_post_id, a.first_stitch_author, a.first_stitch_at,
       d.cum_posts AS n_posts, d.cum_creators AS n_creators,
       CASE WHEN o.spark_day <= $day THEN o.days_to_spark END AS days_to_spark,
       CASE WHEN o.trend_day <= $day THEN o.days_to_trend END AS days_to_trend,
       CASE WHEN o.movement_day <= $day THEN o.days_to_movement END AS days_to_movement
FROM changed c
JOIN v_sound_origin o ON o.sound_id = c.sound_id
LEFT JOIN firsts f ON f.sound_id = c.sound_id
LEFT JOIN answers a ON a.sound_id = c.sound_id
LEFT JOIN sound_daily d ON d.sound_id = c.sound_id AND d.day = $day
ORDER BY CASE c.to_stage WHEN 'movement' THEN 0 WHEN 'trend' THEN 1 WHEN 'spark' THEN 2 ELSE 3 END, d.cum_creators DESC,
         o.sound_id
