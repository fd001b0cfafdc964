-- match_audio gained the pitch factor of an indexed copy (issue 18), so matches through the copy compose it into
-- post_sounds.pitch_semitones (0009). NULL on copies indexed before: matches through them have no pitch until the
-- copy's day is rerun. IF EXISTS / IF NOT EXISTS as in 0001; migration 0004 also runs this file first (it
-- applies sql/schema/core/match_index.sql, which comments on the column).
ALTER TABLE IF EXISTS match_audio ADD COLUMN IF NOT EXISTS via_pitch DOUBLE;
