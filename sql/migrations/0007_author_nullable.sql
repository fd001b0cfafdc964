-- A post's author may be NULL: some exports carry none (the Research API's early shape has no `username`,
-- records.FORMATS_WITHOUT_AUTHOR); the contract still requires it from every other format. The author column
-- of lineage_paths copies it. IF EXISTS as in 0001.
ALTER TABLE IF EXISTS validated_posts ALTER COLUMN author DROP NOT NULL;
ALTER TABLE IF EXISTS lineage_paths ALTER COLUMN author DROP NOT NULL;
