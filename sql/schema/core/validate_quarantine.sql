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
