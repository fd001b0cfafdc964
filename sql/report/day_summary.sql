-- The report's headline numbers for one day.
SELECT
    (SELECT count(*) FROM posts WHERE created_day = $day) AS posts,
    (SELECT count(DISTINCT author) FROM posts WHERE created_day = $day) AS creators,
    (SELECT count(*) FROM sound_daily WHERE day = $day AND new_posts > 0) AS active_sounds,
    (SELECT count(*) FROM (SELECT sound_id FROM sound_daily GROUP BY 1 HAVING min(day) = $day)) AS new_sounds,
    (SELECT count(*) FROM sound_stage_changes WHERE day = $day AND from_stage IS NOT NULL) AS stage_changes,
    (SELECT count(*) FROM alerts WHERE day = $day) AS alerts,
    (SELECT count(*) FROM lineage_paths WHERE CAST(created_at AS DATE) = $day AND parent_post_id IS NOT NULL) AS links,
    (SELECT count(*) FILTER (WHERE stage = 'moment') FROM sound_daily WHERE day = $day) AS n_moment,
    (SELECT count(*) FILTER (WHERE stage = 'spark') FROM sound_daily WHERE day = $day) AS n_spark,
    (SELECT count(*) FILTER (WHERE stage = 'trend') FROM sound_daily WHERE day = $day) AS n_trend,
    (SELECT count(*) FILTER (WHERE stage = 'movement') FROM sound_daily WHERE day = $day) AS n_movement,
    (SELECT min(day) FROM sound_daily) AS first_day,
    (SELECT max(day) FROM sound_daily) AS last_day
