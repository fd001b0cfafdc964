-- cascades: written by pipelines/stages/build_cascades.py (sql/build_cascades/replace.sql)
CREATE TABLE IF NOT EXISTS cascades (
    root_post_id         VARCHAR NOT NULL,
    sound_id             VARCHAR,
    size                 BIGINT NOT NULL,
    creators             BIGINT NOT NULL,
    depth                INTEGER NOT NULL,
    max_breadth          BIGINT NOT NULL,
    structural_virality  DOUBLE,
    first_seen           TIMESTAMP NOT NULL,
    last_seen            TIMESTAMP NOT NULL,
    n_duets              BIGINT NOT NULL,
    n_stitches           BIGINT NOT NULL,
    n_reuses             BIGINT NOT NULL,
    n_reuploads          BIGINT NOT NULL,
    root_observed        BOOLEAN NOT NULL
);
COMMENT ON TABLE cascades IS 'One row per cascade tree (an origin post and everything linked below it).';
COMMENT ON COLUMN cascades.structural_virality IS 'Mean pairwise distance in the undirected tree (Goel et al. 2016); NULL for size 1.';
COMMENT ON COLUMN cascades.root_post_id IS 'Root post of the tree: an origin, or the earliest observed post when the origin was never observed (root_observed = false).';
COMMENT ON COLUMN cascades.sound_id IS 'The cascade''s sound (lineage_paths.sound_id of the root); NULL when the root matched no sound.';
COMMENT ON COLUMN cascades.size IS 'Posts in the tree, root included.';
COMMENT ON COLUMN cascades.creators IS 'Distinct authors in the tree.';
COMMENT ON COLUMN cascades.depth IS 'Longest root → post path, in hops (0 for a lone root).';
COMMENT ON COLUMN cascades.max_breadth IS 'Most posts at any single depth (the root level counts 1).';
COMMENT ON COLUMN cascades.first_seen IS 'created_at of the earliest post of the tree (the root).';
COMMENT ON COLUMN cascades.last_seen IS 'created_at of the latest post of the tree.';
COMMENT ON COLUMN cascades.n_duets IS 'Posts in the tree linked to their parent as a duet.';
COMMENT ON COLUMN cascades.n_stitches IS 'Posts in the tree linked to their parent as a stitch.';
COMMENT ON COLUMN cascades.n_reuses IS 'Posts in the tree linked to their parent as a sound_reuse.';
COMMENT ON COLUMN cascades.n_reuploads IS 'Posts in the tree linked to their parent as a reupload.';
COMMENT ON COLUMN cascades.root_observed IS 'FALSE when the root is evidently not the true origin: it claims a parent that was never observed, or uses another creator''s "original sound".';
