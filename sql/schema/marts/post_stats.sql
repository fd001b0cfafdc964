-- post_stats: written by pipelines/stages/validate.py (sql/validate/replace_posts.sql)
-- One row per post and collection day: a post seen again in a later collection keeps one row in posts (owned
-- by the partition that first delivered it) and its changing counters are kept here, per collection.
CREATE TABLE IF NOT EXISTS post_stats (
    post_id        VARCHAR NOT NULL,
    collected_day  DATE NOT NULL,
    plays          BIGINT,
    likes          BIGINT,
    shares         BIGINT,
    comments       BIGINT,
    source_format  VARCHAR NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_line    INTEGER,
    source_record  INTEGER NOT NULL,
    PRIMARY KEY (post_id, collected_day)
);
COMMENT ON TABLE post_stats IS 'A post''s counters as each collection saw them: one row per (post_id, collected_day), the first collection (the partition owning the post in posts) included, so views over time are a GROUP BY away. Rerunning a day replaces that day''s rows.';
COMMENT ON COLUMN post_stats.post_id IS 'posts.post_id (text; TikTok ids exceed 2^53).';
COMMENT ON COLUMN post_stats.collected_day IS 'The dt= partition (collection day) whose record carried these counters.';
COMMENT ON COLUMN post_stats.plays IS 'Play count in that collection; NULL when the export does not carry it.';
COMMENT ON COLUMN post_stats.likes IS 'Like count in that collection.';
COMMENT ON COLUMN post_stats.shares IS 'Share count in that collection.';
COMMENT ON COLUMN post_stats.comments IS 'Comment count in that collection.';
COMMENT ON COLUMN post_stats.source_format IS 'Export format that read this observation (one of `trendtrace formats`).';
COMMENT ON COLUMN post_stats.source_file IS 'File of the record, relative to its partition.';
COMMENT ON COLUMN post_stats.source_line IS 'Line of the record in its file (JSON lines, CSV); NULL for a JSON array.';
COMMENT ON COLUMN post_stats.source_record IS 'Index of the record in its file.';
