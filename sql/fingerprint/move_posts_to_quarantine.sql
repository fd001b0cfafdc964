-- fingerprint: posts whose media broke the media_audio contract leave posts for quarantine (`moved`).
DELETE FROM posts WHERE ingest_day = $day AND post_id IN (SELECT post_id FROM moved);
INSERT INTO quarantine BY NAME SELECT * FROM moved;
