-- checks: every edge's parent precedes its child in the order link_lineage enforces as a hard rule
-- (docs/lineage.md, "Time order"): parent (created_at, post_id) < child (created_at, post_id), so equal
-- timestamps are ordered by post_id; and both ends are observed posts (otherwise they cannot be ordered).
SELECT e.child_post_id,
       c.created_at AS child_created_at,
       e.parent_post_id,
       p.created_at AS parent_created_at,
       e.relation,
       CASE WHEN c.post_id IS NULL THEN 'child is not in posts'
            WHEN p.post_id IS NULL THEN 'parent is not in posts'
            WHEN e.parent_post_id = e.child_post_id THEN 'post is its own parent'
            WHEN p.created_at > c.created_at THEN 'parent created after the child'
            ELSE 'parent created at the same time, with a later post_id' END AS problem
FROM lineage_edges e
LEFT JOIN posts c ON c.post_id = e.child_post_id
LEFT JOIN posts p ON p.post_id = e.parent_post_id
WHERE c.post_id IS NULL OR p.post_id IS NULL
   OR (p.created_at, p.post_id) >= (c.created_at, c.post_id)
ORDER BY e.child_post_id, e.parent_post_id;
