-- link_lineage, step 3: recompute lineage_paths for the scope's posts (sql/link_lineage/scope.sql) and for
-- everything below them (their descendants' paths change with them), starting from the unchanged paths of
-- their parents; the paths of posts the partition no longer holds are dropped. Work grows with the scope and
-- its subtrees, not with history.
CREATE OR REPLACE TEMP TABLE lp_affected AS
WITH RECURSIVE seeds AS (
    SELECT post_id FROM lineage_scope
    UNION
    SELECT post_id FROM scope_seed
),
below(post_id) AS (
    SELECT post_id FROM seeds
    UNION
    SELECT e.child_post_id FROM lineage_edges e JOIN below b ON e.parent_post_id = b.post_id
)
SELECT DISTINCT post_id FROM below;

DELETE FROM lineage_paths WHERE post_id IN (SELECT post_id FROM lp_affected);

INSERT INTO lineage_paths BY NAME
WITH RECURSIVE nodes AS (
    SELECT p.post_id, p.author, p.created_at, p.ingest_day AS day, e.parent_post_id, e.relation
    FROM posts p
    JOIN lp_affected a USING (post_id)
    LEFT JOIN lineage_edges e ON e.child_post_id = p.post_id
),
own_sound AS (  -- the sound a root stands for: the one its audio opens with (a stitch whose parent was not
                -- observed stands for the sound it stitched, not for its reply), the primary one on ties
    SELECT ps.post_id, arg_min(coalesce(s.merged_into, ps.sound_id),
                          (coalesce(ps.post_start_s, 0), ps.role <> 'primary', coalesce(s.merged_into, ps.sound_id))) AS sound_id
    FROM post_sounds ps
    JOIN lp_affected a USING (post_id)
    LEFT JOIN sounds s ON s.sound_id = ps.sound_id
    GROUP BY ps.post_id
),
walk AS (
    SELECT n.post_id,
           coalesce(lp.root_post_id, n.post_id) AS root_post_id,
           CASE WHEN lp.post_id IS NULL THEN o.sound_id ELSE lp.sound_id END AS sound_id,
           CASE WHEN lp.post_id IS NULL THEN 0 ELSE lp.depth + 1 END AS depth,
           list_append(coalesce(lp.path, []::VARCHAR[]), n.post_id) AS path,
           CASE WHEN lp.post_id IS NULL THEN NULL ELSE n.parent_post_id END AS parent_post_id,
           CASE WHEN lp.post_id IS NULL THEN NULL ELSE n.relation END AS relation,
           n.author, n.created_at, n.day
    FROM nodes n
    LEFT JOIN lineage_paths lp ON lp.post_id = n.parent_post_id
    LEFT JOIN own_sound o ON o.post_id = n.post_id
    WHERE n.parent_post_id IS NULL OR n.parent_post_id NOT IN (SELECT post_id FROM lp_affected)
    UNION ALL
    SELECT n.post_id, w.root_post_id, w.sound_id, w.depth + 1, list_append(w.path, n.post_id),
           n.parent_post_id, n.relation, n.author, n.created_at, n.day
    FROM walk w
    JOIN nodes n ON n.parent_post_id = w.post_id
)
SELECT post_id, root_post_id, sound_id, depth, path, parent_post_id, relation, author, created_at, day FROM walk;

