-- match_sounds: what the resolver needs to know about existing sounds: merge state, origin time, duration.
SELECT s.sound_id, s.merged_into, p.created_at AS origin_at, s.origin_post_id, s.duration_s
FROM sounds s
LEFT JOIN posts p ON p.post_id = s.origin_post_id;
