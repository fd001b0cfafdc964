-- pipelines/publish_copy.py: the views of the warehouse ($db) with their SQL, recreated in the copy by name order
-- (the order apply_schema creates them in).
SELECT view_name, sql FROM duckdb_views()
WHERE database_name = $db AND schema_name = 'main' AND NOT internal
ORDER BY view_name
