-- ingest_quarantine: written by pipelines/stages/ingest.py (sql/ingest/replace_stg_posts.sql)
-- Written by ingest only (sql/ingest/replace_stg_posts.sql): records (or whole files) no adapter could read.
-- Analysts read the view `quarantine` (sql/schema/marts/quarantine.sql), the union of the three stages'
-- tables (ingest_, validate_, fingerprint_quarantine: same columns, frames.QUARANTINE_SCHEMA).
CREATE TABLE IF NOT EXISTS ingest_quarantine (
    ingest_day     DATE NOT NULL,
    stage          VARCHAR NOT NULL CHECK (stage = 'ingest'),
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
COMMENT ON TABLE ingest_quarantine IS 'Written by ingest only: records (or whole files) no adapter could read, with the reason. Analysts read the view quarantine.';
