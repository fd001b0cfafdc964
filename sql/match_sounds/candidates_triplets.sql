-- match_sounds: which indexed audios a chunk's queries are compared with by landmarks (docs/matching.md,
-- "Landmark candidates"). `q_triplets(qid, variant, key, t)` holds the triplet keys of the queries as posted
-- (variant 0) or mapped back by a speed preset (1..). A triplet key is rare enough that two aligned at one offset
-- (+-$tol frames) name the audio (free alignment: a clip, a reuse under a voice, a sped-up copy), and one
-- aligned near offset 0 in the first seconds of both names a stitch's parent (as posted only).
-- Returns each query's best audios of either kind as (qid, ref); the pair-hash voting and its checks then run on
-- their union over the chunk (sql/match_sounds/candidates_landmarks.sql, candidates_stitch.sql), and the measured
-- speed factors on each query's own (candidates_speed_estimate_named.sql).
WITH hits AS MATERIALIZED (
    SELECT q.qid, q.variant, p.audio_id AS ref, p.t - q.t AS off, q.t AS qt, p.t AS rt
    FROM (SELECT DISTINCT qid, variant, key, t FROM q_triplets) q  -- a key kept by two roundings counts once
    JOIN match_triplet_postings p ON p.key = q.key
    WHERE p.audio_id >= $since_audio_id  -- 0: the whole index; the day's first new id: what the day added
      AND p.audio_id NOT IN (SELECT audio_id FROM match_audio WHERE added_day > $as_of)  -- a rerun: not later days'
),
votes AS (
    SELECT qid, variant, ref, off, count(*) AS votes FROM hits GROUP BY ALL
),
smoothed AS (
    SELECT qid, ref, sum(votes) OVER (PARTITION BY qid, variant, ref ORDER BY off
                                      RANGE BETWEEN $tol PRECEDING AND $tol FOLLOWING) AS near_votes
    FROM votes
),
free AS (
    SELECT qid, ref, max(near_votes) AS votes FROM smoothed GROUP BY ALL HAVING max(near_votes) >= $min_votes
),
head AS (
    SELECT qid, ref, count(*) AS votes FROM hits
    WHERE variant = 0 AND qt < $head_frames AND rt < $head_frames AND abs(off) <= $max_off
    GROUP BY ALL
),
ranked AS (
    SELECT qid, ref, row_number() OVER (PARTITION BY qid ORDER BY votes DESC, ref) <= $top_refs AS kept FROM free
    UNION ALL
    SELECT qid, ref, row_number() OVER (PARTITION BY qid ORDER BY votes DESC, ref) <= $top_head_refs AS kept
    FROM head
)
SELECT DISTINCT qid, ref FROM ranked WHERE kept ORDER BY qid, ref;
