-- `trendtrace sound`: who started the sound and how fast it moved.
SELECT * FROM v_sound_origin WHERE sound_id = $sound_id
