-- match_sounds: the first free match_audio.audio_id (audio joining the index is numbered from it, in order).
SELECT coalesce(max(audio_id) + 1, 0) AS next_id FROM match_audio;
