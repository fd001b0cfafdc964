-- fingerprint_quarantine: written by pipelines/stages/fingerprint.py (sql/fingerprint/replace_quarantine.sql)
-- Written by fingerprint only (sql/fingerprint/replace_quarantine.sql):
-- validated posts whose media broke the media-audio contract.
-- Analysts read the view `quarantine` (sql/schema/marts/quarantine.sql), the union of the three stages'
-- tables (ingest_, validate_, fingerprint_quarantine: same columns, frames.QUARANTINE_SCHEMA).
CREATE TABLE IF NOT EXISTS fingerprint_quarantine (
    ingest_day     DATE NOT NULL,
    stage          VARCHAR NOT NULL CHECK (stage = 'fingerprint'),
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
COMMENT ON TABLE fingerprint_quarantine IS 'Written by fingerprint only: validated posts whose media broke the media-audio contract, with the reason. Analysts read the view quarantine.';
