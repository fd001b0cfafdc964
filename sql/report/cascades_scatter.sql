-- Every cascade of two posts or more that had started by the report's day: size against structural virality.
SELECT c.root_post_id, coalesce(s.merged_into, c.sound_id) AS sound_id, c.size, c.structural_virality, c.depth,
       so.title
FROM cascades c
LEFT JOIN sounds s ON s.sound_id = c.sound_id
LEFT JOIN sounds so ON so.sound_id = coalesce(s.merged_into, c.sound_id)
WHERE c.size >= 2 AND c.structural_virality IS NOT NULL AND CAST(c.first_seen AS DATE) <= $day
ORDER BY c.size DESC, c.root_post_id
