-- checks: a post has at most one parent edge in lineage_edges (the edges form a forest, docs/lineage.md).
-- Offending rows: children with more than one, and their parents.
SELECT child_post_id,
       count(*) AS parent_edges,
       list(parent_post_id || ' (' || relation || ')' ORDER BY parent_post_id, relation) AS parents
FROM lineage_edges
GROUP BY child_post_id
HAVING count(*) > 1
ORDER BY child_post_id;
