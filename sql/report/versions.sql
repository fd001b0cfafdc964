-- The featured sounds' versions, one row per sound and kind of version (original, reupload, speed/edit
-- variant, merged sound) with the speeds and edits seen and the platform music ids they travel under.
SELECT sound_id, any_value(title) AS title, version,
       list(DISTINCT speed ORDER BY speed) AS speeds,
       list(DISTINCT edit ORDER BY edit) AS edits,
       sum(n_posts) AS n_posts,
       list_sort(list_distinct(flatten(list(coalesce(platform_music_ids, []))))) AS platform_music_ids,
       arg_min(first_post_id, first_seen_at) AS first_post_id
FROM v_sound_versions
WHERE list_contains($sound_ids, sound_id)
GROUP BY sound_id, version
ORDER BY list_position($sound_ids, sound_id), n_posts DESC, version
