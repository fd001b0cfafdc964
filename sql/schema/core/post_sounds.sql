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
    ingest_day        DATE NOT NULL,
    pitch_semitones   DOUBLE,
    edit              VARCHAR
);
COMMENT ON TABLE post_sounds IS 'Every sound heard in every post with good audio: one primary row per post (the sound it uses) and contained rows (a stitch holding its parent''s first seconds, another sound inside).';
COMMENT ON COLUMN post_sounds.post_id IS 'posts.post_id.';
COMMENT ON COLUMN post_sounds.sound_id IS 'Canonical sound (after merges; follows sounds.merged_into).';
COMMENT ON COLUMN post_sounds.role IS 'primary: the post''s sound (one per post; a post whose audio matched nothing is the origin of a new sound); contained: a sound heard in a part of the post only.';
COMMENT ON COLUMN post_sounds.post_start_s IS 'Start of the matched part of the post''s audio, seconds.';
COMMENT ON COLUMN post_sounds.post_end_s IS 'End of the matched part of the post''s audio, seconds.';
COMMENT ON COLUMN post_sounds.sound_start_s IS 'Where that part starts in the matched sound''s own audio (the match_audio row of matched_sound_id with via_speed NULL), seconds; matches through an indexed copy are carried onto it.';
COMMENT ON COLUMN post_sounds.sound_end_s IS 'Where it ends in the matched sound''s own audio, seconds.';
COMMENT ON COLUMN post_sounds.speed IS 'Time factor of the post relative to the matched sound: sound seconds per post second (1.25 = 25 % faster). Whether the pitch moved with it is pitch_semitones.';
COMMENT ON COLUMN post_sounds.score IS '0..1 confidence: 1 - 2 x bit error rate for chromaprint, share of landmarks aligned for landmarks; 1 for origin rows.';
COMMENT ON COLUMN post_sounds.method IS 'origin (the post created the sound), identical_file (same file as the origin post), chromaprint, landmarks, landmarks_speed_pitch / landmarks_speed_tempo / landmarks_speed_key (query peaks mapped back at a speed preset: resampled, time-stretched, or pitch-shifted at the original tempo, where speed stays 1), landmarks_speed_estimated (time factor measured and pitch factor tried from a short list: two speed changes chained; speed is the time factor) or landmarks_presence (a landmark alignment grown over the windows where the sound''s peaks are still in the post, under a loud voice).';
COMMENT ON COLUMN post_sounds.matched_sound_id IS 'The sound the matcher actually heard, before merges (explains the row).';
COMMENT ON COLUMN post_sounds.ingest_day IS 'ingest_day of the post (the unit of reruns).';
COMMENT ON COLUMN post_sounds.pitch_semitones IS 'Pitch of the post relative to the matched sound, 12 x log2(post frequency / sound frequency), to 0.01 (+3.86 = resampled up 1.25x, nightcore; 0 = pitch kept). Known to the preset the match was found at (key shifts in whole semitones, speed presets +-3 %) or measured (speed_estimated, the resampling scan). NULL when the match went through a copy indexed before pitch was kept, and on rows written before migration 0009 until their day is rerun.';
COMMENT ON COLUMN post_sounds.edit IS 'The edit heard, from speed and pitch_semitones (a factor within 1 % of 1 is unchanged; docs/matching.md "Which edit was heard"): original (origin, identical_file) | as_posted (tempo and pitch kept) | under_voice (tempo and pitch kept, heard only by the peak-presence test: the music under a voice as loud or louder) | sped_up / slowed (resampled: tempo and pitch together by one factor, nightcore / slowed) | tempo_up / tempo_down (time-stretched, pitch kept) | pitch_up / pitch_down (key shift, tempo kept) | speed_and_pitch (both changed by different factors). Reverb, EQ, bass boost, a phone speaker or a low bitrate are not told apart: they are as_posted. NULL where pitch_semitones is.';
