-- pipelines/publish_copy.py: every COMMENT ON of the warehouse ($db): tables and views (column NULL), then columns.
SELECT table_name, NULL AS column_name, comment FROM duckdb_tables()
WHERE database_name = $db AND schema_name = 'main' AND comment IS NOT NULL
UNION ALL
SELECT view_name, NULL, comment FROM duckdb_views()
WHERE database_name = $db AND schema_name = 'main' AND comment IS NOT NULL
UNION ALL
SELECT table_name, column_name, comment FROM duckdb_columns()
WHERE database_name = $db AND schema_name = 'main' AND comment IS NOT NULL
