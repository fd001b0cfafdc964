-- `trendtrace lineage` and the report's trees: every node of one cascade, parents before children.
SELECT t.post_id, t.parent_post_id, t.depth, t.relation, t.author, t.created_at, t.created_day, t.confidence,
       t.evidence, t.plays, t.n_children, t.sound_id, p.caption
FROM v_cascade_tree t
LEFT JOIN posts p ON p.post_id = t.post_id
WHERE t.root_post_id = $root_post_id
ORDER BY t.depth, t.created_at, t.post_id
