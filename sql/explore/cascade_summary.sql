-- `trendtrace lineage`: the cascade's metrics.
SELECT root_post_id, sound_id, size, creators, depth, max_breadth, structural_virality, first_seen, last_seen,
       root_observed
FROM cascades WHERE root_post_id = $root_post_id
