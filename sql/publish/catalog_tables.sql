-- pipelines/publish_copy.py: the tables of the warehouse ($db), by name (the unpublished ones are filtered in Python).
SELECT table_name FROM duckdb_tables() WHERE database_name = $db AND schema_name = 'main' ORDER BY 1
