-- match_sounds: add new sounds' audio to the index (`new_index_audio`, `new_landmark_postings`); the landmark
-- candidate index follows (candidate_index_add.sql).
-- Chromaprint postings are the top 24 bits of each item; a key repeated more than 8 times in one audio
-- (a drone, silence, a loop) is left out: it can only produce ambiguous votes.
INSERT INTO match_audio BY NAME SELECT * FROM new_index_audio;
INSERT INTO match_postings
WITH items AS (
    SELECT n.audio_id, unnest(f.fingerprint) >> 8 AS key, generate_subscripts(f.fingerprint, 1) - 1 AS pos
    FROM new_index_audio n
    JOIN audio_fingerprints f USING (audio_sha256)
),
counted AS (
    SELECT *, count(*) OVER (PARTITION BY audio_id, key) AS n_same FROM items
)
SELECT key::UINTEGER, audio_id, pos::INTEGER FROM counted WHERE n_same <= 8 ORDER BY key;
INSERT INTO match_landmark_postings SELECT hash, audio_id, t FROM new_landmark_postings;
