-- validate_quarantine: written by pipelines/stages/validate.py (sql/validate/replace_posts.sql)
-- Written by validate only (sql/validate/replace_posts.sql):
-- records that broke the posts or media-location contract.
-- Analysts read the view `quarantine` (sql/schema/marts/quarantine.sql), the union of the three stages'
-- tables (ingest_, validate_, fingerprint_quarantine: same columns, frames.QUARANTINE_SCHEMA).
CREATE TABLE IF NOT EXISTS validate_quarantine (
    ingest_day     DATE NOT NULL,
    stage          VARCHAR NOT NULL CHECK (stage = 'validate'),
    source_file    VARCHAR NOT NULL,
    source_format  VARCHAR,
    source_line    INTEGER,
    source_record  INTEGER,
    post_id        VARCHAR,
    field          VARCHAR,
    rule           VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,
    violations     STRUCT(rule VARCHAR, field VARCHAR, reason VARCHAR)[],
    raw            VARCHAR,
    quarantined_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE validate_quarantine IS 'Written by validate only: records that broke the posts or media-location contract, with the reason. Analysts read the view quarantine.';
COMMENT ON COLUMN validate_quarantine.ingest_day IS 'The dt= partition the record arrived in.';
COMMENT ON COLUMN validate_quarantine.stage IS 'Stage that rejected it: ingest (unreadable), validate (posts/media location contract) or fingerprint (media audio contract).';
COMMENT ON COLUMN validate_quarantine.source_file IS 'Export file, relative to its partition.';
COMMENT ON COLUMN validate_quarantine.source_format IS 'Detected export format; NULL when the format is unknown.';
COMMENT ON COLUMN validate_quarantine.source_line IS '1-based line in source_file, when known.';
COMMENT ON COLUMN validate_quarantine.source_record IS '0-based record index in source_file, when known (NULL for a whole file).';
COMMENT ON COLUMN validate_quarantine.post_id IS 'Post id, when one could be read.';
COMMENT ON COLUMN validate_quarantine.field IS 'Field of the first violated rule (NULL when the record/file as a whole is unreadable).';
COMMENT ON COLUMN validate_quarantine.rule IS 'Machine-readable name of the first violated rule, e.g. malformed_json, post_id_unique, media_inside_partition.';
COMMENT ON COLUMN validate_quarantine.reason IS 'Human-readable reason naming file, line and field.';
COMMENT ON COLUMN validate_quarantine.violations IS 'Every violated rule of this record, in contract order.';
COMMENT ON COLUMN validate_quarantine.raw IS 'The original record text (JSON object or CSV line; whole file for unreadable files).';
COMMENT ON COLUMN validate_quarantine.quarantined_at IS 'When the record was quarantined (UTC).';
