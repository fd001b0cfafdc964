-- match_sounds: indexed audio -> the sound it created or is a copy of (with how the copy plays it), as of the
-- day being matched (a rerun of an earlier day must not hear sounds that later days created).
SELECT audio_id, sound_id, via_copy_s, via_sound_s, via_speed, via_pitch FROM match_audio WHERE added_day <= $day;
