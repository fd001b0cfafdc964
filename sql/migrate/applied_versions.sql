-- migrations: versions already applied (the one query a connect runs when nothing is pending).
SELECT version FROM schema_migrations ORDER BY version;
