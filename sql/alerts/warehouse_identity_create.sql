-- This warehouse's id, drawn once: a second writer racing us keeps the first row (ON CONFLICT DO NOTHING).
INSERT INTO warehouse_identity (one_row, warehouse_id, created_at)
VALUES (true, $warehouse_id, $now)
ON CONFLICT DO NOTHING;
