-- match_sounds: candidates_speed_estimate.sql (the measured speed factors: read it first) against the indexed
-- audios that each query's speed-preset triplet keys named (`named_refs(qid, ref)`, candidates_triplets.sql),
-- their pairs `ref_pairs(hash, audio_id, t)` read through the ART of match_audio_landmarks, instead of every
-- indexed pair posting: what a query votes against no longer grows with the index. Below `hits` the same SQL.
WITH named_pairs AS (
    SELECT n.qid, r.hash >> 6 AS prefix, r.hash & 63 AS dt, r.audio_id, r.t
    FROM named_refs n
    JOIN ref_pairs r ON r.audio_id = n.ref
    WHERE (r.hash & 63) >= $min_dt
),
hits AS (
    SELECT q.qid, q.variant, r.audio_id AS ref, ln(r.dt::DOUBLE / q.dt) AS log_a, r.t AS rt, q.t AS qt
    FROM q_pairs q
    JOIN named_pairs r ON r.qid = q.qid AND r.prefix = q.prefix
),
binned AS (
    SELECT qid, variant, ref, round(log_a / ln($a_step))::INTEGER AS abin, rt, qt
    FROM hits
    WHERE log_a BETWEEN ln($a_min) AND ln($a_max)
),
cells AS (
    SELECT qid, variant, ref, abin, round((rt - qt * pow($a_step, abin)) / $off_frames)::INTEGER AS obin,
           count(*) AS votes
    FROM binned
    GROUP BY ALL
),
-- a factor between two cells splits its votes (frame steps are whole numbers, so each ratio is off by up to
-- 1/(2 dt)): each cell counts with its 8 neighbours. Cells with a couple of votes are chance and are left out
-- first, which keeps the neighbour join small.
strong AS (
    SELECT * FROM cells WHERE votes >= $min_cell_votes
),
smoothed AS (
    SELECT c.qid, c.variant, c.ref, c.abin, c.obin, sum(n.votes) AS votes
    FROM strong c
    JOIN strong n ON n.qid = c.qid AND n.variant = c.variant AND n.ref = c.ref
        AND abs(n.abin - c.abin) <= 1 AND abs(n.obin - c.obin) <= 1
    GROUP BY ALL
),
per_ref AS (  -- one cell per reference and pitch factor: its best
    SELECT *, row_number() OVER (PARTITION BY qid, variant, ref ORDER BY votes DESC, abin, obin) AS rk_ref
    FROM smoothed
),
-- at most $cells_per_ref pitch factors per reference: a dense reference that shares many pairs with everything
-- must not fill a query's top k with its cells at every pitch factor and crowd the real one out
per_ref_pitch AS (
    SELECT *, row_number() OVER (PARTITION BY qid, ref ORDER BY votes DESC, variant) AS rk_pitch
    FROM per_ref
    WHERE rk_ref = 1 AND votes >= $min_votes
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY qid ORDER BY votes DESC, variant, ref) AS rk
    FROM per_ref_pitch
    WHERE rk_pitch <= $cells_per_ref
)
SELECT qid, variant, ref, abin, obin, votes FROM ranked WHERE rk <= $top_k ORDER BY qid, rk;
