-- Per ingest day: input records (readable + unreadable), posts accepted, re-observations (a post an earlier
-- partition already holds: its counters go to post_stats), quarantined, posts with a fingerprint.
-- records_in = posts + re_observed + quarantined when nothing was lost.
WITH days AS (
    SELECT DISTINCT day FROM pipeline_runs
),
staged AS (
    SELECT ingest_day AS day, count(*) AS records FROM stg_posts GROUP BY 1
),
q AS (
    SELECT ingest_day AS day,
           count(*) AS quarantined,
           count(*) FILTER (WHERE stage = 'ingest') AS unreadable
    FROM quarantine GROUP BY 1
),
seen_again AS (
    SELECT s.collected_day AS day, count(*) AS re_observed
    FROM post_stats s JOIN posts USING (post_id)
    WHERE posts.ingest_day <> s.collected_day
    GROUP BY 1
),
p AS (
    SELECT ingest_day AS day, count(*) AS posts, count(f.audio_sha256) AS fingerprinted
    FROM posts LEFT JOIN audio_fingerprints f USING (audio_sha256)
    GROUP BY 1
)
SELECT days.day,
       coalesce(staged.records, 0) + coalesce(q.unreadable, 0) AS records_in,
       coalesce(p.posts, 0) AS posts,
       coalesce(seen_again.re_observed, 0) AS re_observed,
       coalesce(q.quarantined, 0) AS quarantined,
       coalesce(p.fingerprinted, 0) AS fingerprinted
FROM days
LEFT JOIN staged USING (day)
LEFT JOIN q USING (day)
LEFT JOIN p USING (day)
LEFT JOIN seen_again USING (day)
ORDER BY days.day;
