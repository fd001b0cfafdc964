-- trendtrace identify: what an analyst wants to know about each sound heard in a file.
SELECT sound_id, title, origin_post_id, first_seen_at, n_posts
FROM sounds
WHERE list_contains($ids, sound_id);
