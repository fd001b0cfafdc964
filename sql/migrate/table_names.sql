-- migrations: the warehouse's tables, to tell a fresh file from one made before schema_migrations existed.
SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary ORDER BY 1;
