-- v_top_sounds: view over sound_daily, sounds, sound_stage_changes (read by pipelines/explore.py and pipelines/report/; created by sql/schema/marts/v_top_sounds.sql)
CREATE OR REPLACE VIEW v_top_sounds AS
WITH ranked AS (
    SELECT d.day, d.sound_id, s.title, d.stage, d.new_creators, d.new_posts, d.creators_7d, d.cum_creators,
           d.cum_posts, d.growth_7d, d.robust_z,
           row_number() OVER (PARTITION BY d.day
                              ORDER BY d.new_creators DESC, d.creators_7d DESC, d.cum_creators DESC, d.sound_id) AS rank
    FROM sound_daily d
    LEFT JOIN sounds s ON s.sound_id = d.sound_id
)
SELECT r.day, r.rank, r.sound_id, r.title, r.stage,
       c.sound_id IS NOT NULL AS stage_changed,
       c.from_stage,
       r.new_creators, r.new_posts, r.creators_7d, r.cum_creators, r.cum_posts, r.growth_7d, r.robust_z,
       p.rank AS prev_rank,
       p.rank - r.rank AS rank_change
FROM ranked r
LEFT JOIN ranked p ON p.sound_id = r.sound_id AND p.day = r.day - 1
LEFT JOIN sound_stage_changes c ON c.sound_id = r.sound_id AND c.day = r.day;
COMMENT ON VIEW v_top_sounds IS 'Sounds ranked per day by new creators (ties: creators in the last 7 days, then all creators), with their stage, growth and rank change since the day before. WHERE day = ... ORDER BY rank.';
COMMENT ON COLUMN v_top_sounds.day IS 'UTC day.';
COMMENT ON COLUMN v_top_sounds.rank IS '1 = most new creators that day.';
COMMENT ON COLUMN v_top_sounds.sound_id IS 'Canonical sound.';
COMMENT ON COLUMN v_top_sounds.title IS 'Platform title of the sound''s origin post.';
COMMENT ON COLUMN v_top_sounds.stage IS 'moment | spark | trend | movement that day.';
COMMENT ON COLUMN v_top_sounds.stage_changed IS 'TRUE when the stage changed that day (a sound''s first day included).';
COMMENT ON COLUMN v_top_sounds.from_stage IS 'Stage before the change; NULL on the first day or without a change.';
COMMENT ON COLUMN v_top_sounds.new_creators IS 'Creators using the sound for the first time that day.';
COMMENT ON COLUMN v_top_sounds.new_posts IS 'Posts created that day using the sound.';
COMMENT ON COLUMN v_top_sounds.creators_7d IS 'New creators in the 7 days ending that day.';
COMMENT ON COLUMN v_top_sounds.cum_creators IS 'Distinct creators up to and including that day.';
COMMENT ON COLUMN v_top_sounds.cum_posts IS 'Posts up to and including that day.';
COMMENT ON COLUMN v_top_sounds.growth_7d IS 'creators_7d divided by the new creators of the 7 days before (NULL when that is 0).';
COMMENT ON COLUMN v_top_sounds.robust_z IS 'Robust z-score of new_creators against the trailing 28 days.';
COMMENT ON COLUMN v_top_sounds.prev_rank IS 'Rank the day before; NULL on the sound''s first day.';
COMMENT ON COLUMN v_top_sounds.rank_change IS 'prev_rank - rank: positive = rose that many places; NULL on the first day.';
