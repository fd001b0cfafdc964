-- match_sounds: indexed audio -> the sound it created, as of the day being matched (a rerun of an earlier
-- day must not hear sounds that later days created).
SELECT audio_id, sound_id FROM match_audio WHERE added_day <= $day;
