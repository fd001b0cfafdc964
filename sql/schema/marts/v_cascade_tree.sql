-- v_cascade_tree: view over lineage_paths, lineage_edges, posts, sounds (read by pipelines/explore.py and pipelines/report/; created by sql/schema/marts/v_cascade_tree.sql)
CREATE OR REPLACE VIEW v_cascade_tree AS
SELECT lp.root_post_id,
       lp.post_id,
       lp.parent_post_id,
       lp.depth,
       lp.relation,
       lp.author,
       lp.created_at,
       CAST(lp.created_at AS DATE)                         AS created_day,
       coalesce(s.merged_into, lp.sound_id)                AS sound_id,
       e.confidence,
       e.evidence,
       p.stats.plays                                       AS plays,
       coalesce(k.n_children, 0)                           AS n_children,
       lp.path
FROM lineage_paths lp
LEFT JOIN lineage_edges e ON e.child_post_id = lp.post_id
LEFT JOIN (SELECT parent_post_id, count(*) AS n_children FROM lineage_edges GROUP BY 1) k
       ON k.parent_post_id = lp.post_id
LEFT JOIN posts p ON p.post_id = lp.post_id
LEFT JOIN sounds s ON s.sound_id = lp.sound_id;
COMMENT ON VIEW v_cascade_tree IS 'Every post as a node of its cascade tree: its parent, depth, how it is linked (relation, confidence, evidence), who posted it and when. Filter on root_post_id for one tree.';
COMMENT ON COLUMN v_cascade_tree.root_post_id IS 'Root of the cascade (cascades.root_post_id).';
COMMENT ON COLUMN v_cascade_tree.post_id IS 'The node: a post.';
COMMENT ON COLUMN v_cascade_tree.parent_post_id IS 'Its parent in the tree; NULL for the root.';
COMMENT ON COLUMN v_cascade_tree.depth IS 'Hops from the root (0 for the root).';
COMMENT ON COLUMN v_cascade_tree.relation IS 'How the post is linked to its parent: duet, stitch, sound_reuse, reupload; NULL for the root.';
COMMENT ON COLUMN v_cascade_tree.author IS 'Creator of the post.';
COMMENT ON COLUMN v_cascade_tree.created_at IS 'When the post was created (UTC).';
COMMENT ON COLUMN v_cascade_tree.created_day IS 'UTC day of created_at (the day adoption counts it on).';
COMMENT ON COLUMN v_cascade_tree.sound_id IS 'The cascade''s canonical sound (after merges); NULL when the root matched no sound.';
COMMENT ON COLUMN v_cascade_tree.confidence IS '0..1 confidence of the link to the parent (lineage_edges.confidence); NULL for the root.';
COMMENT ON COLUMN v_cascade_tree.evidence IS 'Why the link was made: JSON with the rule and the signals that support it (docs/lineage.md); NULL for the root.';
COMMENT ON COLUMN v_cascade_tree.plays IS 'Plays of the post as exported (posts.stats.plays).';
COMMENT ON COLUMN v_cascade_tree.n_children IS 'Posts linked directly below this one.';
COMMENT ON COLUMN v_cascade_tree.path IS 'Post ids from the root to this post, both included.';
