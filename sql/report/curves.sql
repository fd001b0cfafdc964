-- Adoption curves of the report's sounds up to its day.
SELECT sound_id, title, day, new_creators, cum_creators, stage, stage_changed, from_stage, alerts, alert_ids
FROM v_sound_timeline
WHERE list_contains($sound_ids, sound_id) AND day <= $day
ORDER BY sound_id, day
