-- The caption + metadata baseline `evaluate` sets beside the audio evidence (duets/stitches per evidence kind):
-- what the platform's metadata and its inserted caption say, no audio. duetFromId (an older observed post)
-- → duet; else "#duet/#stitch with @user" → that user's most recent earlier post; else the first observed post
-- of the platform music id, when older → sound_reuse; else no edge.
WITH music_first AS (
    SELECT platform_music_id, arg_min(post_id, (created_at, post_id)) AS first_post_id
    FROM posts WHERE platform_music_id IS NOT NULL GROUP BY ALL
),
claims AS (
    SELECT post_id, created_at, platform_music_id, duet_from_post_id,
           lower(nullif(regexp_extract(caption, '(?i)(?:^|[^\w#])#?(duet|stitch) with @([\w.]+)', 1), '')) AS rel,
           lower(nullif(regexp_extract(caption, '(?i)(?:^|[^\w#])#?(duet|stitch) with @([\w.]+)', 2), '')) AS usr
    FROM posts
),
by_caption AS (
    SELECT c.post_id, arg_max(p.post_id, (p.created_at, p.post_id)) AS parent, any_value(c.rel) AS rel
    FROM claims c JOIN posts p ON lower(p.author) = c.usr AND (p.created_at, p.post_id) < (c.created_at, c.post_id)
    WHERE c.usr IS NOT NULL
    GROUP BY c.post_id
)
SELECT c.post_id AS child_post_id,
       coalesce(d.post_id, b.parent, m.first_post_id) AS parent_post_id,
       CASE WHEN d.post_id IS NOT NULL THEN 'duet' WHEN b.parent IS NOT NULL THEN b.rel ELSE 'sound_reuse' END
           AS relation
FROM claims c
LEFT JOIN posts d ON d.post_id = c.duet_from_post_id AND d.created_at < c.created_at
LEFT JOIN by_caption b ON b.post_id = c.post_id
LEFT JOIN music_first m ON m.platform_music_id = c.platform_music_id AND m.first_post_id <> c.post_id
    AND (SELECT p.created_at FROM posts p WHERE p.post_id = m.first_post_id) < c.created_at
WHERE d.post_id IS NOT NULL OR b.parent IS NOT NULL OR m.first_post_id IS NOT NULL;
