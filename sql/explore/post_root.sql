-- `trendtrace lineage`: the cascade a post belongs to.
SELECT root_post_id FROM lineage_paths WHERE post_id = $post_id
