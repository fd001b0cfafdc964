-- migrations: record one migration as applied, inside the transaction that applied it.
INSERT INTO schema_migrations (version, name, applied_at) VALUES ($version, $name, $applied_at);
