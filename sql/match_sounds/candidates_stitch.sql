-- match_sounds: the stitch hypothesis. A stitch starts with the first seconds of its parent, so its landmarks
-- in the first seconds align with the parent's at offset ~0. With the offset fixed, a handful of aligned
-- landmarks is already far beyond chance (unlike the free search over every offset), which is what lets a
-- 1-2 s stitch be heard at all. References: `lm_index` (the landmark candidates' pairs) plus the chunk's earlier
-- queries (not when $chunk_refs is false).
WITH refs AS (
    SELECT hash, audio_id AS ref, t FROM lm_index WHERE t < $head_frames
    UNION ALL
    SELECT hash, -1 - qid AS ref, t FROM q_marks WHERE variant = 0 AND t < $head_frames AND $chunk_refs
),
hits AS (
    SELECT q.qid, r.ref, q.t AS qt, q.hash
    FROM q_marks q
    JOIN refs r ON r.hash = q.hash AND abs(r.t - q.t) <= $max_off
    WHERE q.variant = 0 AND q.t < $head_frames AND (r.ref >= 0 OR -1 - r.ref < q.qid)
)
SELECT qid, ref, 0 AS off, count(*) AS votes, list(qt ORDER BY qt, hash) AS qts, list(hash ORDER BY qt, hash) AS hashes
FROM hits
GROUP BY qid, ref
HAVING count(*) >= $min_votes
ORDER BY qid, votes DESC, ref;  -- a total order: reruns verify the candidates in the same order
