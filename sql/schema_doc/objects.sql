-- pipelines/schema_doc.py: every view (the marts first) and table of the open database, with its comment.
SELECT view_name AS name, 'view' AS kind, comment FROM duckdb_views()
WHERE NOT internal AND schema_name = 'main' AND database_name = current_database()
UNION ALL
SELECT table_name, 'table', comment FROM duckdb_tables()
WHERE schema_name = 'main' AND database_name = current_database()
ORDER BY kind DESC, name
