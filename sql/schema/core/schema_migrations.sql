-- schema_migrations: written by pipelines/migrations.py on `trendtrace init` and every stage's connect (sql/migrate/record_version.sql)
-- The warehouse's schema version: one row per migration applied (docs/warehouse.md). A fresh warehouse gets
-- the DDL at its current shape and a row for every migration; an older one gets its pending migrations run.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    applied_at  TIMESTAMP NOT NULL
);
COMMENT ON TABLE schema_migrations IS 'Numbered migrations applied to this warehouse (sql/migrations/NNNN_name.sql and pipelines/migrations.py); max(version) is its schema version. Each row was written in the migration''s own transaction.';
COMMENT ON COLUMN schema_migrations.version IS 'Migration number (NNNN of its file or registry entry).';
COMMENT ON COLUMN schema_migrations.name IS 'Migration name, e.g. sounds_origin_columns.';
COMMENT ON COLUMN schema_migrations.applied_at IS 'When it was applied (UTC); for a warehouse created at that version or later, when it was created.';
