-- post_sounds gained which edit was heard (issue 18): the pitch factor as semitones and an edit label. NULL on
-- older rows until match_sounds reruns their days: their pitch factor was not kept, and speed and method alone
-- cannot tell it (a post heard plainly through a copy has method landmarks whatever the copy's edit).
-- IF EXISTS / IF NOT EXISTS as in 0001.
ALTER TABLE IF EXISTS post_sounds ADD COLUMN IF NOT EXISTS pitch_semitones DOUBLE;
ALTER TABLE IF EXISTS post_sounds ADD COLUMN IF NOT EXISTS edit VARCHAR;
