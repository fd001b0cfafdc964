-- fingerprint: the day's fingerprinted files that have no spectral peaks yet (fingerprinted before peaks
-- existed); decoded again once so the matcher's landmark signal covers them.
SELECT f.audio_sha256, min(p.media_path) AS media_path
FROM validated_posts p
JOIN audio_fingerprints f USING (audio_sha256)
WHERE p.ingest_day = $day
  AND f.audio_sha256 NOT IN (SELECT audio_sha256 FROM audio_peaks)
GROUP BY f.audio_sha256
ORDER BY f.audio_sha256;
