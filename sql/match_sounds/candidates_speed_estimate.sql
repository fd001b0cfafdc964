-- match_sounds: candidates for a speed change whose time and pitch factors differ (a resampled copy then
-- time-stretched, or the reverse), for queries that no preset speed explained. `q_pairs(qid, variant, prefix,
-- dt, t)` holds the landmark pairs of each query's first seconds with their bins mapped back by one pitch
-- factor per variant; `prefix` is the hash without its time step (anchor bin | bin step). A query pair and an
-- indexed pair with the same prefix tell the time factor (indexed dt / query dt); the (time factor, offset) cell
-- where one reference collects the most of them is the candidate, found whatever the time factor is. The
-- candidates are verified along the whole query in numpy (pipelines/matching/speed_estimate.py).
WITH hits AS (
    SELECT q.qid, q.variant, r.audio_id AS ref, ln((r.hash & 63)::DOUBLE / q.dt) AS log_a, r.t AS rt, q.t AS qt
    FROM q_pairs q
    JOIN match_landmark_postings r ON r.hash >> 6 = q.prefix
    WHERE (r.hash & 63) >= $min_dt
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
