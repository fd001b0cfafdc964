-- match_sounds: landmark candidates by offset voting, +-1 frame tolerance. `q_marks(qid, variant, hash, t)`
-- holds one chunk's queries (variant 0 = as posted, others = speed-corrected); references are `lm_index` (the
-- landmark candidates' pairs, or every indexed pair for speed variants) plus the chunk's earlier queries as
-- posted (unless $chunk_refs is false: the end-of-day merge pass). Returns, per best (query, variant, ref,
-- offset), the matched query anchor times and hashes for verification in numpy.
WITH refs AS (
    SELECT hash, audio_id AS ref, t FROM lm_index
    UNION ALL
    SELECT hash, -1 - qid AS ref, t FROM q_marks WHERE variant = 0 AND $chunk_refs
),
hits AS MATERIALIZED (
    SELECT q.qid, q.variant, r.ref, r.t - q.t AS off, q.t AS qt, q.hash
    FROM q_marks q
    JOIN refs r ON r.hash = q.hash
    WHERE (r.ref >= 0 OR -1 - r.ref < q.qid) AND q.variant >= $min_variant
),
votes_all AS (
    SELECT qid, variant, ref, off, count(*) AS votes FROM hits GROUP BY ALL
),
-- an alignment reaches $min_votes over 3 offsets only where one of them has a third of it: the (query, variant,
-- ref) without such an offset can neither be kept nor be anyone's runner-up, so the window functions below skip
-- them (most pairs only share a few chance hashes at scattered offsets); the result is the same
votes AS (
    SELECT v.* FROM votes_all v
    SEMI JOIN (SELECT DISTINCT qid, variant, ref FROM votes_all WHERE 3 * votes >= $min_votes) c
        ON c.qid = v.qid AND c.variant = v.variant AND c.ref = v.ref
),
smoothed AS (
    SELECT *, sum(votes) OVER (PARTITION BY qid, variant, ref ORDER BY off
                               RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS votes3
    FROM votes
),
per_ref AS (
    SELECT *, row_number() OVER (PARTITION BY qid, variant, ref ORDER BY votes3 DESC, votes DESC, off) AS rk_off
    FROM smoothed WHERE votes3 >= $min_votes
),
best_off AS (
    SELECT * FROM per_ref WHERE rk_off = 1
),
-- the same pair's best other alignment: what chance and self-similar music give this pair. A real match
-- stands out from it; a pair of unrelated tracks with many shared hashes does not.
runner_up AS (
    SELECT b.qid, b.variant, b.ref, max(s.votes3) AS second
    FROM best_off b
    JOIN smoothed s ON s.qid = b.qid AND s.variant = b.variant AND s.ref = b.ref AND abs(s.off - b.off) > 3
    GROUP BY ALL
),
standing AS (
    SELECT b.* FROM best_off b
    LEFT JOIN runner_up u ON u.qid = b.qid AND u.variant = b.variant AND u.ref = b.ref
    WHERE b.votes3 >= $min_ratio * coalesce(u.second, 0)
),
-- at most $refs_per_sound indexed audios of one sound (its own and its indexed copies) per query: a sound with
-- many copies must not crowd another sound of the post (a stitch's parent, a duet's other track) out of the top k
per_sound AS (
    SELECT s.*, dense_rank() OVER (PARTITION BY s.qid, coalesce(a.sound_id, s.ref::VARCHAR)
                                   ORDER BY s.ref_best DESC, s.ref) AS rk_ref
    FROM (SELECT *, max(votes3) OVER (PARTITION BY qid, ref) AS ref_best FROM standing) s
    LEFT JOIN match_audio a ON a.audio_id = s.ref
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY qid ORDER BY votes3 DESC, variant, ref) AS rk
    FROM per_sound WHERE rk_ref <= $refs_per_sound
),
best AS (
    SELECT qid, variant, ref, off, votes3 FROM ranked WHERE rk <= $top_k
)
SELECT b.qid, b.variant, b.ref, b.off, b.votes3 AS votes,
       list(h.qt ORDER BY h.qt, h.hash) AS qts, list(h.hash ORDER BY h.qt, h.hash) AS hashes  -- total: reproducible lists
FROM best b
JOIN hits h ON h.qid = b.qid AND h.variant = b.variant AND h.ref = b.ref AND h.off BETWEEN b.off - 1 AND b.off + 1
GROUP BY ALL
-- a total order: equal votes (one stretch heard through two indexed audios of one sound) come in the same order in
-- every run, so the verified matches, and the day's rows built from them, are reproducible
ORDER BY b.qid, votes DESC, b.variant, b.ref, b.off;
