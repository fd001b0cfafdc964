-- scripts/bench_scale.py: per ingest day, the day's volume and the size of the index it was matched against
-- (the audio match_sounds indexed on earlier days).
WITH p AS (
    SELECT posts.ingest_day AS day,
           count(*) AS posts,
           count(DISTINCT posts.audio_sha256) AS audio_files,
           coalesce(sum(f.duration_s), 0) / 3600 AS posted_audio_h
    FROM posts LEFT JOIN audio_fingerprints f USING (audio_sha256)
    GROUP BY 1
),
idx AS (
    SELECT a.added_day AS day, count(*) AS indexed_audio, coalesce(sum(f.duration_s), 0) / 3600 AS indexed_h
    FROM match_audio a LEFT JOIN audio_fingerprints f USING (audio_sha256)
    GROUP BY 1
)
SELECT p.day,
       p.posts,
       p.audio_files,
       p.posted_audio_h,
       coalesce((SELECT sum(indexed_audio) FROM idx WHERE idx.day < p.day), 0) AS index_audio_before,
       coalesce((SELECT sum(indexed_h) FROM idx WHERE idx.day < p.day), 0) AS index_h_before,
       coalesce(i.indexed_audio, 0) AS indexed_audio_added
FROM p LEFT JOIN idx i USING (day)
ORDER BY p.day;
