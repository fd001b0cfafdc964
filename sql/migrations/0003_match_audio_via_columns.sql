-- match_audio gained indexed copies (issue 5, docs/matching.md): how a copy plays its sound. Older rows are
-- the sounds' own audio, for which the three are NULL by definition. IF EXISTS / IF NOT EXISTS as in 0001.
ALTER TABLE IF EXISTS match_audio ADD COLUMN IF NOT EXISTS via_copy_s DOUBLE;
ALTER TABLE IF EXISTS match_audio ADD COLUMN IF NOT EXISTS via_sound_s DOUBLE;
ALTER TABLE IF EXISTS match_audio ADD COLUMN IF NOT EXISTS via_speed DOUBLE;
