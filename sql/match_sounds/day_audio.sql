-- match_sounds: the day's distinct audio in the order it was first posted (posts are matched in created_at
-- order), with its fingerprint and peaks; `posts` lists every post of the day carrying it; `media_path` (in
-- the day's partition) lets the matcher decode it again for the peak-presence test.
SELECT p.audio_sha256,
       min(p.created_at) AS first_at,
       arg_min(p.post_id, (p.created_at, p.post_id)) AS first_post_id,
       arg_min(p.media_path, (p.created_at, p.post_id)) AS media_path,
       list(p.post_id ORDER BY p.created_at, p.post_id) AS post_ids,
       any_value(f.duration_s) AS duration_s,
       any_value(f.fingerprint) AS fingerprint,
       any_value(k.frames) AS peak_frames,
       any_value(k.bins) AS peak_bins
FROM posts p
JOIN audio_fingerprints f USING (audio_sha256)
LEFT JOIN audio_peaks k USING (audio_sha256)
WHERE p.ingest_day = $day
GROUP BY p.audio_sha256
ORDER BY first_at, first_post_id;
