-- lineage_edges: written by pipelines/stages/link_lineage.py (sql/link_lineage/edges_replace.sql)
-- Lineage: at most one parent edge per post (docs/lineage.md for the conventions and the evidence rules).
CREATE TABLE IF NOT EXISTS lineage_edges (
    child_post_id   VARCHAR NOT NULL,
    parent_post_id  VARCHAR NOT NULL,
    relation        VARCHAR NOT NULL,
    confidence      DOUBLE NOT NULL,
    evidence        JSON NOT NULL,
    day             DATE NOT NULL
);
COMMENT ON TABLE lineage_edges IS 'One edge child → parent per linked post (origins have none). Parents are always older than their children, so the edges form a forest.';
COMMENT ON COLUMN lineage_edges.child_post_id IS 'The post that duets, stitches, reuses or re-uploads (posts.post_id).';
COMMENT ON COLUMN lineage_edges.parent_post_id IS 'The post it descends from under the conventions of docs/lineage.md; always created before the child.';
COMMENT ON COLUMN lineage_edges.relation IS 'duet | stitch | sound_reuse | reupload.';
COMMENT ON COLUMN lineage_edges.confidence IS 'How sure the link is, 0–1: explicit ids with agreeing audio ≈ 0.99, metadata contradicted by audio lower (see docs/lineage.md).';
COMMENT ON COLUMN lineage_edges.evidence IS 'JSON: rule (which evidence decided), signals (every signal that supported it) and conflicts (signals that disagreed and were overruled).';
COMMENT ON COLUMN lineage_edges.day IS 'ingest_day (partition) of the child post: the unit a rerun of link_lineage replaces.';
