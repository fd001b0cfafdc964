-- `trendtrace sound`: the sound's biggest cascades (merged sounds' cascades included).
SELECT c.root_post_id, p.author AS root_author, c.size, c.creators, c.depth, c.max_breadth, c.structural_virality,
       c.n_duets, c.n_stitches, c.n_reuses, c.n_reuploads, c.first_seen, c.last_seen, c.root_observed
FROM cascades c
LEFT JOIN sounds s ON s.sound_id = c.sound_id
LEFT JOIN posts p ON p.post_id = c.root_post_id
WHERE coalesce(s.merged_into, c.sound_id) = $sound_id
ORDER BY c.size DESC, c.creators DESC, c.root_post_id
LIMIT $n
