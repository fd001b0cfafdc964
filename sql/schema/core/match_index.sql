-- match_audio: written by pipelines/stages/match_sounds.py (sql/match_sounds/index_add.sql, sql/match_sounds/reset_day.sql)
-- match_postings: written by pipelines/stages/match_sounds.py (sql/match_sounds/index_add.sql, sql/match_sounds/reset_day.sql)
-- match_landmark_postings: written by pipelines/stages/match_sounds.py (sql/match_sounds/index_add.sql, sql/match_sounds/reset_day.sql)
-- match_triplet_postings: written by pipelines/stages/match_sounds.py (sql/match_sounds/candidate_index_add.sql, sql/match_sounds/reset_day.sql)
-- match_audio_landmarks: written by pipelines/stages/match_sounds.py (sql/match_sounds/candidate_index_add.sql, sql/match_sounds/reset_day.sql)
-- post_match_outcomes: written by pipelines/stages/match_sounds.py (sql/match_sounds/insert_results.sql, sql/match_sounds/reset_day.sql)
-- The sound identity index (issue 5, docs/matching.md): the audio of each distinct sound, once, and its
-- postings. Built incrementally by match_sounds: a day adds only the audio of the sounds it created.
CREATE TABLE IF NOT EXISTS match_audio (
    audio_id      INTEGER NOT NULL,
    audio_sha256  VARCHAR NOT NULL,
    sound_id      VARCHAR NOT NULL,
    n_items       INTEGER NOT NULL,
    n_landmarks   INTEGER NOT NULL,
    added_day     DATE NOT NULL,
    via_copy_s    DOUBLE,
    via_sound_s   DOUBLE,
    via_speed     DOUBLE,
    via_pitch     DOUBLE
);
COMMENT ON TABLE match_audio IS 'Audio indexed for sound matching: one row per sound (the audio of the post that created it), plus copies heard as the sound only at another speed (sped up, slowed, key-shifted), so that copies of those copies are heard as posted. Not every copy.';
COMMENT ON COLUMN match_audio.audio_id IS 'Compact integer id used by the postings (dense, assigned in creation order).';
COMMENT ON COLUMN match_audio.audio_sha256 IS 'The indexed media file (audio_fingerprints.audio_sha256).';
COMMENT ON COLUMN match_audio.sound_id IS 'Sound this audio created, or is a copy of (sounds.sound_id); positions in post_sounds.sound_start_s are relative to the sound''s own audio.';
COMMENT ON COLUMN match_audio.n_items IS 'Chromaprint items indexed.';
COMMENT ON COLUMN match_audio.n_landmarks IS 'Spectral-peak landmark hashes indexed.';
COMMENT ON COLUMN match_audio.added_day IS 'ingest_day of the match_sounds run that added it (a rerun of that day removes it).';
COMMENT ON COLUMN match_audio.via_copy_s IS 'NULL for the audio that created the sound. For a copy: the second of the copy that plays via_sound_s of the sound.';
COMMENT ON COLUMN match_audio.via_sound_s IS 'For a copy: the second of the sound''s own audio that the copy plays at via_copy_s.';
COMMENT ON COLUMN match_audio.via_speed IS 'For a copy: sound seconds played per copy second. A match to a copy is carried onto the sound through these (pipelines.matching.resolve.through).';
COMMENT ON COLUMN match_audio.via_pitch IS 'For a copy: copy frequency / sound frequency (1.25 for a copy resampled up 1.25x, 1 for a time-stretched one); matches through the copy compose it into post_sounds.pitch_semitones. NULL for a copy indexed before it was kept (migration 0008): matches through it have no pitch_semitones until its day is rerun.';

CREATE TABLE IF NOT EXISTS match_postings (
    key       UINTEGER NOT NULL,
    audio_id  INTEGER NOT NULL,
    pos       INTEGER NOT NULL
);
COMMENT ON TABLE match_postings IS 'Chromaprint postings: the top bits of every item of every indexed audio, with its position. Looked up through the ART index match_postings_key (docs/matching.md, Index).';
COMMENT ON COLUMN match_postings.key IS 'Item >> 8 (its top 24 bits): robust to the low bits that flip first under re-encoding.';
COMMENT ON COLUMN match_postings.audio_id IS 'match_audio.audio_id.';
COMMENT ON COLUMN match_postings.pos IS 'Item index in the audio (x 1365/11025 s).';
-- The lookup of a chunk's keys reads only their postings through this index (DuckDB turns the candidate join
-- into ART lookups when the chunk is small against the index, sql/match_sounds/lookup_begin.sql), so its cost
-- follows the keys and their hits, not the size of the index. Built once on an existing file, then kept up
-- to date by every insert and delete (a day's add or reset).
CREATE INDEX IF NOT EXISTS match_postings_key ON match_postings (key);
COMMENT ON INDEX match_postings_key IS 'ART on match_postings.key: candidate lookups read only the postings of the query keys (sublinear in the index size).';

CREATE TABLE IF NOT EXISTS match_landmark_postings (
    hash      UINTEGER NOT NULL,
    audio_id  INTEGER NOT NULL,
    t         INTEGER NOT NULL
);
COMMENT ON TABLE match_landmark_postings IS 'Spectral-peak landmark postings (Wang 2003): a hash of two nearby peaks and the anchor frame.';
COMMENT ON COLUMN match_landmark_postings.hash IS 'Anchor frequency bin, frequency difference and time difference of a peak pair, packed.';
COMMENT ON COLUMN match_landmark_postings.audio_id IS 'match_audio.audio_id.';
COMMENT ON COLUMN match_landmark_postings.t IS 'Anchor frame (x 256/11025 s).';

-- Landmark candidates (docs/matching.md, "Landmark candidates"): triplet keys are specific enough for an index,
-- so a lookup returns the true alignments and little else; the pair hashes of the audios it names are then
-- read whole from match_audio_landmarks for the offset voting and verification.
CREATE TABLE IF NOT EXISTS match_triplet_postings (
    key       UBIGINT NOT NULL,
    audio_id  INTEGER NOT NULL,
    t         INTEGER NOT NULL
);
COMMENT ON TABLE match_triplet_postings IS 'Landmark triplet postings: each spectral peak with two of its next 4 peaks (pipelines.matching.landmarks.triplet_keys), looked up to choose which indexed audios a query is compared with by landmarks.';
COMMENT ON COLUMN match_triplet_postings.key IS 'Anchor bin, then frequency and time steps to the two other peaks, packed in 34 bits.';
COMMENT ON COLUMN match_triplet_postings.audio_id IS 'match_audio.audio_id.';
COMMENT ON COLUMN match_triplet_postings.t IS 'Anchor frame (x 256/11025 s).';
CREATE INDEX IF NOT EXISTS match_triplet_postings_key ON match_triplet_postings (key);
COMMENT ON INDEX match_triplet_postings_key IS 'ART on match_triplet_postings.key: a small lookup (one post) reads only the postings of its keys.';

CREATE TABLE IF NOT EXISTS match_audio_landmarks (
    audio_id  INTEGER NOT NULL,
    hashes    UINTEGER[] NOT NULL,
    frames    INTEGER[] NOT NULL
);
COMMENT ON TABLE match_audio_landmarks IS 'The landmark pair hashes of each indexed audio in one row, read for the few audios a triplet lookup names.';
COMMENT ON COLUMN match_audio_landmarks.audio_id IS 'match_audio.audio_id.';
COMMENT ON COLUMN match_audio_landmarks.hashes IS 'Pair hashes, as match_landmark_postings.hash.';
COMMENT ON COLUMN match_audio_landmarks.frames IS 'Anchor frame of each hash, as match_landmark_postings.t.';
CREATE INDEX IF NOT EXISTS match_audio_landmarks_id ON match_audio_landmarks (audio_id);

CREATE TABLE IF NOT EXISTS post_match_outcomes (
    post_id     VARCHAR NOT NULL,
    outcome     VARCHAR NOT NULL,
    detail      VARCHAR,
    ingest_day  DATE NOT NULL
);
COMMENT ON TABLE post_match_outcomes IS 'What match_sounds concluded for every post with good audio, including posts that got no sound.';
COMMENT ON COLUMN post_match_outcomes.outcome IS 'matched (primary sound found), new_sound (origin of a new sound), too_short (too little audio signal to identify or index, no sound).';
COMMENT ON COLUMN post_match_outcomes.detail IS 'Readable explanation (which sound, how it was heard).';
COMMENT ON COLUMN post_match_outcomes.ingest_day IS 'ingest_day of the post.';
COMMENT ON COLUMN post_match_outcomes.post_id IS 'posts.post_id.';
