-- sounds: written by pipelines/stages/match_sounds.py (sql/match_sounds/insert_results.sql, sql/match_sounds/refresh_sounds.sql, sql/match_sounds/reset_day.sql)
CREATE TABLE IF NOT EXISTS sounds (
    sound_id        VARCHAR NOT NULL,
    origin_post_id  VARCHAR NOT NULL,
    first_seen_at   TIMESTAMP NOT NULL,
    title           VARCHAR,
    duration_s      DOUBLE,
    n_posts         BIGINT NOT NULL,
    merged_into     VARCHAR,
    created_post_id VARCHAR,
    audio_sha256    VARCHAR,
    created_day     DATE
);
COMMENT ON TABLE sounds IS 'Sounds identified by their audio (not the platform music id). A sound merged into another keeps its row with merged_into set; canonical sounds have merged_into NULL.';
COMMENT ON COLUMN sounds.sound_id IS 'Stable id of the sound.';
COMMENT ON COLUMN sounds.origin_post_id IS 'Earliest observed post whose audio is this sound.';
COMMENT ON COLUMN sounds.first_seen_at IS 'created_at of the origin post (UTC).';
COMMENT ON COLUMN sounds.title IS 'Platform title of the origin post''s sound, e.g. "original sound - user".';
COMMENT ON COLUMN sounds.duration_s IS 'Duration of the indexed audio of the sound, seconds.';
COMMENT ON COLUMN sounds.n_posts IS 'Posts whose primary sound this is (after merges).';
COMMENT ON COLUMN sounds.merged_into IS 'Canonical sound this one was merged into (see sound_merges); NULL for canonical sounds.';
COMMENT ON COLUMN sounds.created_post_id IS 'Post whose unmatched audio created the sound (sound_id = ''snd-'' || it); the origin can be an earlier post arriving later.';
COMMENT ON COLUMN sounds.audio_sha256 IS 'Media file indexed for the sound (match_audio).';
COMMENT ON COLUMN sounds.created_day IS 'ingest_day of the match_sounds run that created it (a rerun of that day recreates it).';
