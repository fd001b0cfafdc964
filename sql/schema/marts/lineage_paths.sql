-- lineage_paths: written by pipelines/stages/link_lineage.py (sql/link_lineage/paths_refresh.sql)
-- Every post's way to its cascade root (an origin, or the earliest observed post when the origin was not observed).
CREATE TABLE IF NOT EXISTS lineage_paths (
    post_id         VARCHAR NOT NULL,
    root_post_id    VARCHAR NOT NULL,
    sound_id        VARCHAR,
    depth           INTEGER NOT NULL,
    path            VARCHAR[] NOT NULL,
    parent_post_id  VARCHAR,
    relation        VARCHAR,
    author          VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    day             DATE NOT NULL
);
COMMENT ON TABLE lineage_paths IS 'One row per post: its root and the path root → post along lineage_edges (recursive CTE, maintained incrementally per day).';
COMMENT ON COLUMN lineage_paths.post_id IS 'The post (posts.post_id).';
COMMENT ON COLUMN lineage_paths.root_post_id IS 'Root of its cascade: the post itself when it has no parent edge.';
COMMENT ON COLUMN lineage_paths.sound_id IS 'The cascade''s sound: the sound the root''s audio opens with (its primary sound unless it is a stitch), as identified when the path was computed; NULL when the root matched no sound.';
COMMENT ON COLUMN lineage_paths.depth IS 'Hops from the root (0 for the root).';
COMMENT ON COLUMN lineage_paths.path IS 'Post ids from the root to this post, both included.';
COMMENT ON COLUMN lineage_paths.parent_post_id IS 'Direct parent (lineage_edges.parent_post_id); NULL for roots.';
COMMENT ON COLUMN lineage_paths.relation IS 'Relation to the parent (lineage_edges.relation); NULL for roots.';
COMMENT ON COLUMN lineage_paths.author IS 'Creator of the post (posts.author; NULL where the export carries none).';
COMMENT ON COLUMN lineage_paths.created_at IS 'posts.created_at (UTC).';
COMMENT ON COLUMN lineage_paths.day IS 'ingest_day of the post (the unit of reruns).';
