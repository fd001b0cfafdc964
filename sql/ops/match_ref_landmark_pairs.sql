-- match_sounds: the landmark pairs of the indexed audio named in `want_refs(audio_id)` (the landmark candidates)
-- as rows (hash, audio_id, t), like match_landmark_postings; read through the ART index match_audio_landmarks_id.
SELECT unnest(l.hashes) AS hash, l.audio_id, unnest(l.frames) AS t
FROM match_audio_landmarks l
JOIN want_refs w USING (audio_id)
