-- match_sounds: one day's results (`new_sounds`, `new_post_sounds`, `new_merges`, `new_outcomes`: frames of the
-- row types in pipelines/matching/types.py). New sounds start as their own origin, post_sounds rows with the sound
-- as heard; refresh_sounds.sql then derives origins, counts, merges and canonical sound ids.
INSERT INTO sounds BY NAME
SELECT n.sound_id, n.created_post_id AS origin_post_id, p.created_at AS first_seen_at, p.music_title AS title,
       n.duration_s, 0 AS n_posts, NULL AS merged_into, n.created_post_id, n.audio_sha256, n.created_day
FROM new_sounds n JOIN posts p ON p.post_id = n.created_post_id;
INSERT INTO post_sounds BY NAME SELECT * FROM new_post_sounds;
INSERT INTO sound_merges BY NAME SELECT * FROM new_merges;
INSERT INTO post_match_outcomes BY NAME SELECT * FROM new_outcomes;
