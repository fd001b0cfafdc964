-- ingest: replace one ingest_day of stg_posts and of the ingest stage's quarantine with the frames
-- `new_stg_posts` and `new_quarantine` (registered by the caller).
DELETE FROM stg_posts WHERE ingest_day = $day;
DELETE FROM quarantine WHERE ingest_day = $day AND stage = 'ingest';
INSERT INTO stg_posts BY NAME SELECT * FROM new_stg_posts;
INSERT INTO quarantine BY NAME SELECT * FROM new_quarantine;
