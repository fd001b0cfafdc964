-- The warehouse's id (no row until the first delivery created it).
SELECT warehouse_id FROM warehouse_identity;
