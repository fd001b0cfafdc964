-- build_cascades, step 2: the nodes of the affected trees, for the O(n) subtree-size metrics in Python.
SELECT lp.root_post_id, lp.post_id, lp.parent_post_id, lp.depth
FROM lineage_paths lp
JOIN cascade_roots USING (root_post_id);
