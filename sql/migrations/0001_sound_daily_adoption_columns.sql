-- sound_daily gained the adoption signals the stage rules read (alerts, 2026-11): NULL on older rows until
-- adoption reruns their days. A migration runs before the DDL, so a warehouse without the table is left to
-- the DDL, which creates it at its current shape (IF EXISTS); IF NOT EXISTS: a file made before
-- schema_migrations existed may already have the columns.
ALTER TABLE IF EXISTS sound_daily ADD COLUMN IF NOT EXISTS creators_7d BIGINT;
ALTER TABLE IF EXISTS sound_daily ADD COLUMN IF NOT EXISTS creators_prev_7d BIGINT;
ALTER TABLE IF EXISTS sound_daily ADD COLUMN IF NOT EXISTS max_depth INTEGER;
ALTER TABLE IF EXISTS sound_daily ADD COLUMN IF NOT EXISTS branches BIGINT;
