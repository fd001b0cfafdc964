-- Suggestions for an unknown sound id: the most similar ids or titles.
SELECT sound_id, title
FROM sounds
WHERE merged_into IS NULL
ORDER BY greatest(jaro_winkler_similarity(sound_id, $typed), jaro_winkler_similarity(sound_id, 'snd-' || $typed),
                  jaro_winkler_similarity(lower(coalesce(title, '')), lower($typed))) DESC, sound_id
LIMIT $n
