-- Suggestions for an unknown post id: the most similar post ids (ids are long digit strings: prefix first).
SELECT post_id, author, created_at
FROM posts
ORDER BY jaro_winkler_similarity(post_id, $typed) DESC, post_id
LIMIT $n
