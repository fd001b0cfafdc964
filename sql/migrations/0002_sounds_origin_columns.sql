-- sounds gained where each sound came from (match_sounds, issue 5): NULL on older rows until match_sounds
-- reruns the day that created them. IF EXISTS / IF NOT EXISTS as in 0001.
ALTER TABLE IF EXISTS sounds ADD COLUMN IF NOT EXISTS created_post_id VARCHAR;
ALTER TABLE IF EXISTS sounds ADD COLUMN IF NOT EXISTS audio_sha256 VARCHAR;
ALTER TABLE IF EXISTS sounds ADD COLUMN IF NOT EXISTS created_day DATE;
