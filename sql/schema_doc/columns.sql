-- pipelines/schema_doc.py: the columns of every table and view of the open database, in their order.
SELECT table_name, column_name, data_type, comment FROM duckdb_columns()
WHERE schema_name = 'main' AND database_name = current_database()
ORDER BY table_name, column_index
