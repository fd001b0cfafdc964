-- warehouse_identity: written by pipelines/alerts/outbox.py (sql/alerts/warehouse_identity_create.sql)
-- Written by pipelines.alerts.outbox (warehouse_id(): one row, created once on first delivery, never changed).
CREATE TABLE IF NOT EXISTS warehouse_identity (
    one_row       BOOLEAN PRIMARY KEY DEFAULT true CHECK (one_row),
    warehouse_id  VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
COMMENT ON TABLE warehouse_identity IS 'This warehouse''s identity: exactly one row, created once. Part of every alert''s X-Trendtrace-Delivery id, so ids never repeat across warehouses (a rebuilt warehouse gets a new one). See docs/alerts.md.';
COMMENT ON COLUMN warehouse_identity.one_row IS 'Always true: keeps the table to a single row.';
COMMENT ON COLUMN warehouse_identity.warehouse_id IS 'Random 128-bit id (32 hex digits) drawn when the first alert was delivered.';
COMMENT ON COLUMN warehouse_identity.created_at IS 'When the id was drawn (UTC).';
