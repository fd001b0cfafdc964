-- validate: replace one ingest_day of validate's own tables, validated_posts, validate_quarantine and
-- post_stats, with `new_posts` (posts this partition owns), `new_quarantine` and `new_stats` (the counters of
-- every accepted record of the day: new posts and re-observations of posts other partitions own).
-- Fingerprint's rejections of that day are fingerprint's to replace: the views posts and quarantine stay
-- consistent meanwhile (sql/schema/marts/).
DELETE FROM validated_posts WHERE ingest_day = $day;
DELETE FROM validate_quarantine WHERE ingest_day = $day;
DELETE FROM post_stats WHERE collected_day = $day;
INSERT INTO validated_posts BY NAME
SELECT post_id, author, created_at, CAST(created_at AS DATE) AS created_day, caption, platform_music_id,
       music_title, music_original, duet_from_post_id, mentions, hashtags,
       struct_pack(plays := plays, likes := likes, shares := shares, comments := comments) AS stats,
       duration_s, media_path, audio_sha256, source_format, source_file, source_line, source_record, ingest_day
FROM new_posts;
INSERT INTO validate_quarantine BY NAME SELECT * FROM new_quarantine;
INSERT INTO post_stats BY NAME
SELECT post_id, ingest_day AS collected_day, plays, likes, shares, comments, source_format, source_file,
       source_line, source_record
FROM new_stats;
