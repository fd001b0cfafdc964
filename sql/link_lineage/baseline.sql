-- The metadata-only baseline `evaluate` compares against: what platform metadata alone says, no audio, no
-- captions. duetFromId (when it names an older observed post) → duet; else the first observed post of the
-- platform music id, when older → sound_reuse; else no edge.
WITH music_first AS (
    SELECT platform_music_id, arg_min(post_id, (created_at, post_id)) AS first_post_id
    FROM posts WHERE platform_music_id IS NOT NULL GROUP BY ALL
)
SELECT c.post_id AS child_post_id,
       CASE WHEN d.post_id IS NOT NULL THEN d.post_id ELSE m.first_post_id END AS parent_post_id,
       CASE WHEN d.post_id IS NOT NULL THEN 'duet' ELSE 'sound_reuse' END AS relation
FROM posts c
LEFT JOIN posts d ON d.post_id = c.duet_from_post_id AND d.created_at < c.created_at
LEFT JOIN music_first m ON m.platform_music_id = c.platform_music_id AND m.first_post_id <> c.post_id
WHERE d.post_id IS NOT NULL
   OR (m.first_post_id IS NOT NULL
       AND (SELECT p.created_at FROM posts p WHERE p.post_id = m.first_post_id) < c.created_at);
