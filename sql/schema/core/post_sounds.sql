-- post_sounds: written by pipelines/stages/match_sounds.py (sql/match_sounds/insert_results.sql, sql/match_sounds/refresh_sounds.sql, sql/match_sounds/reset_day.sql)
CREATE TABLE IF NOT EXISTS post_sounds (
    post_id           VARCHAR NOT NULL,
    sound_id          VARCHAR NOT NULL,
    role              VARCHAR NOT NULL,
    post_start_s      DOUBLE,
    post_end_s        DOUBLE,
    sound_start_s     DOUBLE,
    sound_end_s       DOUBLE,
    speed             DOUBLE NOT NULL,
    score             DOUBLE NOT NULL,
    method            VARCHAR NOT NULL,
    matched_sound_id  VARCHAR NOT NULL,
    ingest_day        DATE NOT NULL
);
COMMENT ON TABLE post_sounds IS 'Every sound heard in every post with good audio: one primary row per post (the sound it uses) and contained rows (a stitch holding its parent''s first seconds, another sound inside).';
COMMENT ON COLUMN post_sounds.post_id IS 'posts.post_id.';
COMMENT ON COLUMN post_sounds.sound_id IS 'Canonical sound (after merges; follows sounds.merged_into).';
COMMENT ON COLUMN post_sounds.role IS 'primary: the post''s sound (one per post; a post whose audio matched nothing is the origin of a new sound); contained: a sound heard in a part of the post only.';
COMMENT ON COLUMN post_sounds.post_start_s IS 'Start of the matched part of the post''s audio, seconds.';
COMMENT ON COLUMN post_sounds.post_end_s IS 'End of the matched part of the post''s audio, seconds.';
COMMENT ON COLUMN post_sounds.sound_start_s IS 'Where that part starts in the matched sound''s own audio (the match_audio row of matched_sound_id with via_speed NULL), seconds; matches through an indexed copy are carried onto it.';
COMMENT ON COLUMN post_sounds.sound_end_s IS 'Where it ends in the matched sound''s own audio, seconds.';
COMMENT ON COLUMN post_sounds.speed IS 'Playback speed of the post relative to the sound (1.25 = sped up by 25 %, pitch included).';
COMMENT ON COLUMN post_sounds.score IS '0..1 confidence: 1 - 2 x bit error rate for chromaprint, share of landmarks aligned for landmarks; 1 for origin rows.';
COMMENT ON COLUMN post_sounds.method IS 'origin (the post created the sound), identical_file (same file as the origin post), chromaprint, landmarks, landmarks_speed_pitch / landmarks_speed_tempo / landmarks_speed_key (query peaks mapped back at a speed preset: resampled, time-stretched, or pitch-shifted at the original tempo, where speed stays 1), landmarks_speed_estimated (time factor measured and pitch factor tried from a short list: two speed changes chained; speed is the time factor) or landmarks_presence (a landmark alignment grown over the windows where the sound''s peaks are still in the post, under a loud voice).';
COMMENT ON COLUMN post_sounds.matched_sound_id IS 'The sound the matcher actually heard, before merges (explains the row).';
COMMENT ON COLUMN post_sounds.ingest_day IS 'ingest_day of the post (the unit of reruns).';
