-- checks: lineage_paths is lineage_edges walked from the root: a path runs root_post_id → … → post_id, each
-- consecutive pair is an edge (parent, child), the root has no parent edge, depth is its number of hops,
-- parent_post_id / relation are the last hop's edge, and every edge's child has a path. Offending rows: one
-- per post, with everything wrong with its path.
WITH hops AS (
    SELECT post_id, i, path[i] AS parent, path[i + 1] AS child
    FROM (SELECT post_id, path, unnest(range(1, len(path))) AS i FROM lineage_paths)
),
problems AS (
    SELECT post_id, 'path ends with ' || coalesce(path[-1], 'nothing') || ', not the post' AS problem
    FROM lineage_paths WHERE path[-1] IS DISTINCT FROM post_id
    UNION ALL
    SELECT post_id, 'path starts with ' || coalesce(path[1], 'nothing') || ', not root_post_id ' || root_post_id
    FROM lineage_paths WHERE path[1] IS DISTINCT FROM root_post_id
    UNION ALL
    SELECT post_id, 'depth ' || depth || ' but ' || (len(path) - 1) || ' hops'
    FROM lineage_paths WHERE depth IS DISTINCT FROM len(path) - 1
    UNION ALL
    SELECT lp.post_id, 'root ' || e.child_post_id || ' has a parent edge to ' || e.parent_post_id
    FROM lineage_paths lp JOIN lineage_edges e ON e.child_post_id = lp.path[1]
    UNION ALL
    SELECT h.post_id, 'hop ' || h.parent || ' → ' || h.child || ' is not an edge'
    FROM hops h
    WHERE NOT EXISTS (SELECT 1 FROM lineage_edges e WHERE e.child_post_id = h.child AND e.parent_post_id = h.parent)
    UNION ALL
    SELECT lp.post_id, 'parent_post_id ' || coalesce(lp.parent_post_id, 'NULL') || ', relation '
           || coalesce(lp.relation, 'NULL') || ' but the edge says ' || coalesce(e.parent_post_id, 'no parent')
           || coalesce(' (' || e.relation || ')', '')
    FROM lineage_paths lp LEFT JOIN lineage_edges e ON e.child_post_id = lp.post_id
    WHERE lp.parent_post_id IS DISTINCT FROM e.parent_post_id OR lp.relation IS DISTINCT FROM e.relation
    UNION ALL
    SELECT e.child_post_id, 'has a parent edge to ' || e.parent_post_id || ' but no path'
    FROM lineage_edges e WHERE e.child_post_id NOT IN (SELECT post_id FROM lineage_paths)
)
SELECT post_id, string_agg(DISTINCT problem, '; ' ORDER BY problem) AS problems
FROM problems
GROUP BY post_id
ORDER BY post_id;
