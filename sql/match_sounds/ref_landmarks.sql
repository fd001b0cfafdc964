-- match_sounds: the landmark pair hashes of the indexed audio named in `want_refs(audio_id)` (the landmark
-- candidates), one row per audio, read through the ART index match_audio_landmarks_id.
SELECT l.audio_id, l.hashes, l.frames
FROM match_audio_landmarks l
JOIN want_refs w USING (audio_id)
ORDER BY l.audio_id;
