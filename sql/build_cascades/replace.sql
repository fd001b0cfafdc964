-- build_cascades, step 3: replace the affected trees' rows; structural virality comes from `cascade_virality`
-- (root_post_id, structural_virality), computed from subtree sizes.
DELETE FROM cascades WHERE root_post_id IN (SELECT root_post_id FROM cascade_roots);

INSERT INTO cascades BY NAME
WITH nodes AS (
    SELECT lp.* FROM lineage_paths lp JOIN cascade_roots USING (root_post_id)
),
levels AS (
    SELECT root_post_id, depth, count(*) AS n FROM nodes GROUP BY ALL
),
breadth AS (
    SELECT root_post_id, max(n) AS max_breadth FROM levels GROUP BY ALL
),
trees AS (
    SELECT root_post_id,
           count(*) AS size,
           count(DISTINCT author) AS creators,
           max(depth) AS depth,
           min(created_at) AS first_seen,
           max(created_at) AS last_seen,
           count(*) FILTER (relation = 'duet') AS n_duets,
           count(*) FILTER (relation = 'stitch') AS n_stitches,
           count(*) FILTER (relation = 'sound_reuse') AS n_reuses,
           count(*) FILTER (relation = 'reupload') AS n_reuploads
    FROM nodes GROUP BY ALL
),
roots AS (  -- is the root evidently not the true origin?
    SELECT n.root_post_id, n.sound_id,
           NOT (
               coalesce(p.duet_from_post_id IS NOT NULL, FALSE)
               OR coalesce(regexp_matches(p.caption, '(^|[^#\w])#?(duet|stitch) with @', 'i'), FALSE)
               -- the platform's title names the creator who uploaded the sound; music_original only says the
               -- sound is an original sound (reuses of it say TRUE too), so it is not read as "this post is
               -- the origin": a root playing another creator's "original sound - X" is not the origin
               OR coalesce(coalesce(p.music_original, TRUE) AND starts_with(lower(p.music_title), 'original sound - ')
                           AND lower(p.music_title) <> lower('original sound - ' || p.author), FALSE)
           ) AS root_observed
    FROM nodes n
    JOIN posts p ON p.post_id = n.post_id
    WHERE n.depth = 0
)
SELECT t.root_post_id, r.sound_id, t.size, t.creators, t.depth, b.max_breadth,
       v.structural_virality, t.first_seen, t.last_seen,
       t.n_duets, t.n_stitches, t.n_reuses, t.n_reuploads, coalesce(r.root_observed, FALSE) AS root_observed
FROM trees t
JOIN breadth b USING (root_post_id)
LEFT JOIN roots r USING (root_post_id)
LEFT JOIN cascade_virality v USING (root_post_id);

DROP TABLE cascade_roots;
