-- ingest: replace one ingest_day of stg_posts and of ingest_quarantine (the ingest stage's own rejections)
-- with the frames `new_stg_posts` and `new_quarantine` (registered by the caller).
DELETE FROM stg_posts WHERE ingest_day = $day;
DELETE FROM ingest_quarantine WHERE ingest_day = $day;
INSERT INTO stg_posts BY NAME SELECT * FROM new_stg_posts;
INSERT INTO ingest_quarantine BY NAME SELECT * FROM new_quarantine;
