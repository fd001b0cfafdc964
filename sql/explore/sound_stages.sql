-- `trendtrace sound`: every change of the sound's stage.
SELECT day, from_stage, to_stage FROM sound_stage_changes WHERE sound_id = $sound_id ORDER BY day, to_stage
