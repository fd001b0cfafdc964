-- One cascade's nodes as of the report's day (parents are older than children, so this is a subtree).
SELECT post_id, parent_post_id, depth, relation, author, created_day, confidence, plays
FROM v_cascade_tree
WHERE root_post_id = $root_post_id AND created_day <= $day
ORDER BY depth, created_at, post_id
