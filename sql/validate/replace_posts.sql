-- validate: replace one ingest_day of posts, and of the quarantine rows that stem from posts
-- (validate's own and fingerprint's, which moved posts out), with `new_posts` / `new_quarantine`.
DELETE FROM posts WHERE ingest_day = $day;
DELETE FROM quarantine WHERE ingest_day = $day AND stage IN ('validate', 'fingerprint');
INSERT INTO posts BY NAME
SELECT post_id, author, created_at, CAST(created_at AS DATE) AS created_day, caption, platform_music_id,
       music_title, music_original, duet_from_post_id, mentions, hashtags,
       struct_pack(plays := plays, likes := likes, shares := shares, comments := comments) AS stats,
       duration_s, media_path, audio_sha256, source_format, source_file, source_line, source_record, ingest_day
FROM new_posts;
INSERT INTO quarantine BY NAME SELECT * FROM new_quarantine;
