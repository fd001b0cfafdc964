-- build_cascades, step 1: the trees that may have changed: the trees holding a post of lineage_scope (the
-- partition's posts and what they relinked; a descendant is in its ancestor's tree), and every tree whose
-- stored row no longer agrees with lineage_paths (size differs, or the root is no longer a root, or a root
-- has no row yet: a rerun dropped posts, or a relinked post left or founded a tree). The agreement check is
-- one aggregate over lineage_paths; the trees recomputed are only those that changed.
CREATE OR REPLACE TEMP TABLE cascade_roots AS
WITH sizes AS (SELECT root_post_id, count(*) AS n FROM lineage_paths GROUP BY root_post_id)
SELECT DISTINCT root_post_id FROM (
    SELECT lp.root_post_id FROM lineage_paths lp JOIN lineage_scope USING (post_id)
    UNION ALL
    SELECT c.root_post_id FROM cascades c LEFT JOIN sizes s USING (root_post_id) WHERE s.n IS DISTINCT FROM c.size
    UNION ALL
    SELECT s.root_post_id FROM sizes s ANTI JOIN cascades c USING (root_post_id)
);
