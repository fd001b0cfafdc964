-- A sound id as typed (with or without its 'snd-' prefix) -> the sound and its canonical sound.
SELECT sound_id, coalesce(merged_into, sound_id) AS canonical_id
FROM sounds
WHERE sound_id = $sound_id OR sound_id = 'snd-' || $sound_id
LIMIT 1
