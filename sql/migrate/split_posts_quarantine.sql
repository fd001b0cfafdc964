-- Migration 5 (pipelines/migrations.py `_posts_and_quarantine_views`): the tables `posts` and `quarantine`,
-- written by three stages, become one table per writer; the DDL then makes `posts` and `quarantine` views over
-- them (sql/schema/marts/). Runs after the caller renamed posts to validated_posts and created the per-stage
-- quarantine tables from their DDL.
INSERT INTO ingest_quarantine BY NAME SELECT * FROM quarantine WHERE stage = 'ingest';
INSERT INTO validate_quarantine BY NAME SELECT * FROM quarantine WHERE stage = 'validate';
INSERT INTO fingerprint_quarantine BY NAME SELECT * FROM quarantine WHERE stage = 'fingerprint';
-- Fingerprint used to delete the posts whose audio it rejected; validate's table holds them now (the view
-- `quarantine` counts a fingerprint rejection only while validate holds its post). Rebuilt from staging as
-- replace_posts.sql builds them; their audio_sha256 is unknown here (NULL) until the day is validated again.
INSERT INTO validated_posts BY NAME
SELECT s.post_id, s.author, s.created_at, CAST(s.created_at AS DATE) AS created_day, s.caption,
       s.platform_music_id, s.music_title, s.music_original, s.duet_from_post_id, s.mentions, s.hashtags,
       struct_pack(plays := s.plays, likes := s.likes, shares := s.shares, comments := s.comments) AS stats,
       s.duration_s, s.media_path, NULL AS audio_sha256, s.source_format, s.source_file, s.source_line,
       s.source_record, s.ingest_day
FROM fingerprint_quarantine f
JOIN stg_posts s ON s.ingest_day = f.ingest_day AND s.source_file = f.source_file
                AND s.source_record = f.source_record AND s.post_id = f.post_id
WHERE NOT EXISTS (SELECT 1 FROM validated_posts v WHERE v.ingest_day = f.ingest_day AND v.post_id = f.post_id);
DROP TABLE quarantine;
