-- v_sound_timeline: view over sound_daily, sounds, sound_stage_changes, alerts, lineage_paths, posts (read by pipelines/explore.py and pipelines/report/; created by sql/schema/marts/v_sound_timeline.sql)
CREATE OR REPLACE VIEW v_sound_timeline AS
WITH plays AS (
    SELECT coalesce(s.merged_into, lp.sound_id) AS sound_id, CAST(lp.created_at AS DATE) AS day,
           sum(p.stats.plays) AS new_plays
    FROM lineage_paths lp
    JOIN sounds s ON s.sound_id = lp.sound_id
    JOIN posts p ON p.post_id = lp.post_id
    GROUP BY ALL
),
day_alerts AS (
    SELECT sound_id, day, list(label ORDER BY alert_id) AS alerts, list(alert_id ORDER BY alert_id) AS alert_ids
    FROM alerts GROUP BY ALL
)
SELECT d.sound_id, s.title, d.day,
       d.day - min(d.day) OVER (PARTITION BY d.sound_id) AS day_index,
       d.new_posts, d.new_creators, d.cum_posts, d.cum_creators, d.creators_7d, d.growth_7d, d.robust_z,
       d.max_depth, d.branches,
       coalesce(pl.new_plays, 0) AS new_plays,
       d.stage,
       c.sound_id IS NOT NULL AS stage_changed,
       c.from_stage,
       coalesce(a.alerts, []) AS alerts,
       coalesce(a.alert_ids, []) AS alert_ids
FROM sound_daily d
LEFT JOIN sounds s ON s.sound_id = d.sound_id
LEFT JOIN sound_stage_changes c ON c.sound_id = d.sound_id AND c.day = d.day
LEFT JOIN day_alerts a ON a.sound_id = d.sound_id AND a.day = d.day
LEFT JOIN plays pl ON pl.sound_id = d.sound_id AND pl.day = d.day;
COMMENT ON VIEW v_sound_timeline IS 'A sound''s life day by day: adoption counts, signals, the stage (and whether it changed that day) and the alerts that fired that day. Filter on sound_id and order by day.';
COMMENT ON COLUMN v_sound_timeline.sound_id IS 'Canonical sound.';
COMMENT ON COLUMN v_sound_timeline.title IS 'Platform title of the sound''s origin post.';
COMMENT ON COLUMN v_sound_timeline.day IS 'UTC day.';
COMMENT ON COLUMN v_sound_timeline.day_index IS 'Days since the sound''s first day (0 on that day).';
COMMENT ON COLUMN v_sound_timeline.new_posts IS 'Posts created that day using the sound.';
COMMENT ON COLUMN v_sound_timeline.new_creators IS 'Creators using the sound for the first time that day.';
COMMENT ON COLUMN v_sound_timeline.cum_posts IS 'Posts up to and including that day.';
COMMENT ON COLUMN v_sound_timeline.cum_creators IS 'Distinct creators up to and including that day.';
COMMENT ON COLUMN v_sound_timeline.creators_7d IS 'New creators in the 7 days ending that day.';
COMMENT ON COLUMN v_sound_timeline.growth_7d IS 'creators_7d divided by the new creators of the 7 days before (NULL when that is 0).';
COMMENT ON COLUMN v_sound_timeline.robust_z IS 'Robust z-score of new_creators against the trailing 28 days.';
COMMENT ON COLUMN v_sound_timeline.max_depth IS 'Deepest lineage hop among the sound''s posts so far.';
COMMENT ON COLUMN v_sound_timeline.branches IS 'Non-root posts of the sound that drew answers of their own, so far.';
COMMENT ON COLUMN v_sound_timeline.new_plays IS 'Plays (as exported) of the posts created that day.';
COMMENT ON COLUMN v_sound_timeline.stage IS 'moment | spark | trend | movement that day.';
COMMENT ON COLUMN v_sound_timeline.stage_changed IS 'TRUE on the days the stage changed (the first day included: NULL -> its first stage).';
COMMENT ON COLUMN v_sound_timeline.from_stage IS 'The stage before the change; NULL on the first day or when it did not change.';
COMMENT ON COLUMN v_sound_timeline.alerts IS 'Labels of the alerts whose crossing day this is, e.g. ["cum_creators >= 10"].';
COMMENT ON COLUMN v_sound_timeline.alert_ids IS 'alerts.alert_id of those alerts, in the same order.';
