-- lineage_rejections: written by pipelines/stages/link_lineage.py (sql/link_lineage/edges_replace.sql)
-- Claimed references link_lineage refused (never followed, never looped on).
CREATE TABLE IF NOT EXISTS lineage_rejections (
    child_post_id          VARCHAR NOT NULL,
    claimed_parent_post_id VARCHAR,
    claim                  VARCHAR NOT NULL,
    reason                 VARCHAR NOT NULL,
    day                    DATE NOT NULL
);
COMMENT ON TABLE lineage_rejections IS 'Claims of parenthood that were rejected: pointing to the future, forming a cycle, or naming a post or user that was never observed.';
COMMENT ON COLUMN lineage_rejections.child_post_id IS 'The post that made the claim.';
COMMENT ON COLUMN lineage_rejections.claimed_parent_post_id IS 'The post the claim names (NULL when the claim names a user without a usable earlier post).';
COMMENT ON COLUMN lineage_rejections.claim IS 'duet_from_id (duetInfo.duetFromId) | caption_duet | caption_stitch ("#duet with @user").';
COMMENT ON COLUMN lineage_rejections.reason IS 'cycle | future (claimed parent not older than the child) | self | not_observed (no such post) | no_earlier_post (the named user has no earlier post).';
COMMENT ON COLUMN lineage_rejections.day IS 'ingest_day of the child post (the unit of reruns).';
