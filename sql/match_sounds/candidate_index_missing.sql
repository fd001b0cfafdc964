-- match_sounds: indexed audio without rows in the landmark candidate index (added by a version before it).
SELECT audio_id FROM match_audio
WHERE audio_id NOT IN (SELECT audio_id FROM match_audio_landmarks)
ORDER BY audio_id;
