-- fingerprint: distinct media files of one ingest_day's posts that were never decoded (any earlier day
-- counts: an identical file is decoded and fingerprinted once).
SELECT audio_sha256, min(media_path) AS media_path
FROM validated_posts
WHERE ingest_day = $day
  AND audio_sha256 IS NOT NULL
  AND audio_sha256 NOT IN (SELECT audio_sha256 FROM media_checks)
GROUP BY audio_sha256
ORDER BY audio_sha256;
