-- quarantine: view over ingest_quarantine, validate_quarantine and fingerprint_quarantine (sql/schema/core/ingest_quarantine.sql, sql/schema/core/validate_quarantine.sql, sql/schema/core/fingerprint_quarantine.sql)
-- Every input record that did not become a post, with why. posts + quarantine account for every record.
-- A view over the per-stage tables, each with one writer (ingest, validate, fingerprint). A fingerprint row
-- counts only while validate still holds its post, so even between a rerun of validate and of fingerprint
-- every validated record is in exactly one of posts and quarantine.
CREATE OR REPLACE VIEW quarantine AS
SELECT * FROM ingest_quarantine
UNION ALL BY NAME
SELECT * FROM validate_quarantine
UNION ALL BY NAME
SELECT f.* FROM fingerprint_quarantine f
WHERE EXISTS (SELECT 1 FROM validated_posts v WHERE v.ingest_day = f.ingest_day AND v.post_id = f.post_id);
COMMENT ON VIEW quarantine IS 'Input records (or whole files) rejected by an adapter or a data contract, kept in full with the reason. Nothing is dropped silently.';
COMMENT ON COLUMN quarantine.ingest_day IS 'The dt= partition the record arrived in.';
COMMENT ON COLUMN quarantine.stage IS 'Stage that rejected it: ingest (unreadable), validate (posts/media location contract) or fingerprint (media audio contract).';
COMMENT ON COLUMN quarantine.source_file IS 'Export file, relative to its partition.';
COMMENT ON COLUMN quarantine.source_format IS 'Detected export format; NULL when the format is unknown.';
COMMENT ON COLUMN quarantine.source_line IS '1-based line in source_file, when known.';
COMMENT ON COLUMN quarantine.source_record IS '0-based record index in source_file, when known (NULL for a whole file).';
COMMENT ON COLUMN quarantine.post_id IS 'Post id, when one could be read.';
COMMENT ON COLUMN quarantine.field IS 'Field of the first violated rule (NULL when the record/file as a whole is unreadable).';
COMMENT ON COLUMN quarantine.rule IS 'Machine-readable name of the first violated rule, e.g. malformed_json, post_id_unique, media_inside_partition.';
COMMENT ON COLUMN quarantine.reason IS 'Human-readable reason naming file, line and field.';
COMMENT ON COLUMN quarantine.violations IS 'Every violated rule of this record, in contract order.';
COMMENT ON COLUMN quarantine.raw IS 'The original record text (JSON object or CSV line; whole file for unreadable files).';
COMMENT ON COLUMN quarantine.quarantined_at IS 'When the record was quarantined (UTC).';
