-- sound_stage_changes: written by pipelines/stages/adoption.py (sql/adoption/replace.sql)
CREATE TABLE IF NOT EXISTS sound_stage_changes (
    sound_id    VARCHAR NOT NULL,
    day         DATE NOT NULL,
    from_stage  VARCHAR,
    to_stage    VARCHAR NOT NULL
);
COMMENT ON TABLE sound_stage_changes IS 'Every change of a sound''s stage, including falls back (a fading sound).';
COMMENT ON COLUMN sound_stage_changes.from_stage IS 'Stage before the change; NULL on the sound''s first day.';
COMMENT ON COLUMN sound_stage_changes.to_stage IS 'Stage from that day on.';
COMMENT ON COLUMN sound_stage_changes.sound_id IS 'Canonical sound (sound_daily.sound_id).';
COMMENT ON COLUMN sound_stage_changes.day IS 'First day with the new stage.';
