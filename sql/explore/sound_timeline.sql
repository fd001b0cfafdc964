-- `trendtrace sound`: the sound day by day.
SELECT day, day_index, new_posts, new_creators, cum_posts, cum_creators, creators_7d, growth_7d, robust_z, new_plays,
       stage, stage_changed, from_stage, alerts, alert_ids
FROM v_sound_timeline
WHERE sound_id = $sound_id
ORDER BY day
