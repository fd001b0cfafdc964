-- checks: a post has at most one primary sound (post_sounds role 'primary'; a post too short to identify has
-- none). Offending rows: posts with more than one, and the sounds they name.
SELECT post_id,
       count(*) AS primary_rows,
       list(sound_id ORDER BY sound_id) AS sound_ids,
       list(DISTINCT ingest_day ORDER BY ingest_day) AS ingest_days
FROM post_sounds
WHERE role = 'primary'
GROUP BY post_id
HAVING count(*) > 1
ORDER BY post_id;
