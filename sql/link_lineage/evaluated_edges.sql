-- trendtrace evaluate (pipelines/lineage/edge_accuracy.py): each edge, and the posts its evidence names as
-- sounding the same as the chosen parent (audio_equivalent_parents, on an audio tie; NULL otherwise).
SELECT child_post_id, parent_post_id, relation,
       from_json(evidence->'audio_equivalent_parents', '["VARCHAR"]') AS equivalents
FROM lineage_edges;
