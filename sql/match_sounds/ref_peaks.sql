-- match_sounds: spectral peaks of the indexed audio named in `want_refs(audio_id)`, to align a whole query.
SELECT a.audio_id, k.frames, k.bins
FROM match_audio a
JOIN audio_peaks k USING (audio_sha256)
WHERE a.audio_id IN (SELECT audio_id FROM want_refs);
