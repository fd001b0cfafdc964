-- match_sounds: fingerprints of the indexed audio named in `want_refs(audio_id)`, for BER verification.
SELECT a.audio_id, f.fingerprint
FROM match_audio a
JOIN audio_fingerprints f USING (audio_sha256)
WHERE a.audio_id IN (SELECT audio_id FROM want_refs);
