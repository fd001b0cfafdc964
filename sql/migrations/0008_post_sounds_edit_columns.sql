-- post_sounds gained which edit was heard (issue 18): the pitch factor as semitones and an edit label; match_audio
-- gained the pitch factor of an indexed copy, so matches through it compose it. NULL on older rows until
-- match_sounds reruns their days (the pitch factor was not kept, and speed alone cannot tell a resampled copy
-- from a time-stretched one through a copy). IF EXISTS / IF NOT EXISTS as in 0001.
ALTER TABLE IF EXISTS post_sounds ADD COLUMN IF NOT EXISTS pitch_semitones DOUBLE;
ALTER TABLE IF EXISTS post_sounds ADD COLUMN IF NOT EXISTS edit VARCHAR;
ALTER TABLE IF EXISTS match_audio ADD COLUMN IF NOT EXISTS via_pitch DOUBLE;
