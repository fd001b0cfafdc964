-- sound_daily: written by pipelines/stages/adoption.py (sql/adoption/replace.sql)
CREATE TABLE IF NOT EXISTS sound_daily (
    sound_id      VARCHAR NOT NULL,
    day           DATE NOT NULL,
    new_posts     BIGINT NOT NULL,
    new_creators  BIGINT NOT NULL,
    cum_posts     BIGINT NOT NULL,
    cum_creators  BIGINT NOT NULL,
    growth_7d     DOUBLE,
    robust_z      DOUBLE,
    stage         VARCHAR NOT NULL,
    creators_7d       BIGINT,
    creators_prev_7d  BIGINT,
    max_depth         INTEGER,
    branches          BIGINT
);
COMMENT ON TABLE sound_daily IS 'Daily adoption of every canonical sound, one row per sound and day from its first day, days without posts included.';
COMMENT ON COLUMN sound_daily.new_posts IS 'Posts created that day using the sound.';
COMMENT ON COLUMN sound_daily.new_creators IS 'Creators using the sound for the first time that day.';
COMMENT ON COLUMN sound_daily.cum_posts IS 'Posts using the sound up to and including that day.';
COMMENT ON COLUMN sound_daily.cum_creators IS 'Distinct creators up to and including that day.';
COMMENT ON COLUMN sound_daily.growth_7d IS 'New creators in the last 7 days divided by those in the 7 days before (NULL when that is 0).';
COMMENT ON COLUMN sound_daily.robust_z IS 'Robust z-score of new_creators against the trailing 28-day median and MAD.';
COMMENT ON COLUMN sound_daily.stage IS 'moment | spark | trend | movement (config/adoption.yaml).';
COMMENT ON COLUMN sound_daily.sound_id IS 'Canonical sound (sounds.sound_id; merged sounds count under the sound they were merged into).';
COMMENT ON COLUMN sound_daily.day IS 'UTC day (posts counted by created_day).';
COMMENT ON COLUMN sound_daily.creators_7d IS 'New creators in the 7 days ending that day.';
COMMENT ON COLUMN sound_daily.creators_prev_7d IS 'New creators in the 7 days before those (days d-13 … d-7).';
COMMENT ON COLUMN sound_daily.max_depth IS 'Deepest lineage hop (lineage_paths.depth) among the sound''s posts up to that day.';
COMMENT ON COLUMN sound_daily.branches IS 'Non-root posts of the sound that drew answers of their own, up to that day (counted from the day of their first answer).';
