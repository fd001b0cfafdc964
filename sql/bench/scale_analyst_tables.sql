-- scripts/bench_publish.py: k times the rows of the analyst tables, copies' ids suffixed '~1' … '~k-1' so keys
-- stay unique and cascades stay trees (a copy links only to its own copies).
INSERT INTO posts SELECT t.* REPLACE (post_id || '~' || i AS post_id)
FROM posts t, range(1, $k) AS r(i);
INSERT INTO post_sounds SELECT t.* REPLACE (post_id || '~' || i AS post_id)
FROM post_sounds t, range(1, $k) AS r(i) WHERE NOT contains(t.post_id, '~');
INSERT INTO lineage_edges SELECT t.* REPLACE (child_post_id || '~' || i AS child_post_id,
                                            parent_post_id || '~' || i AS parent_post_id)
FROM lineage_edges t, range(1, $k) AS r(i);
INSERT INTO lineage_paths SELECT t.* REPLACE (post_id || '~' || i AS post_id, root_post_id || '~' || i AS root_post_id,
                                            parent_post_id || '~' || i AS parent_post_id,
                                            list_transform(path, lambda p: p || '~' || i) AS path)
FROM lineage_paths t, range(1, $k) AS r(i) WHERE NOT contains(t.post_id, '~');
INSERT INTO cascades SELECT t.* REPLACE (root_post_id || '~' || i AS root_post_id)
FROM cascades t, range(1, $k) AS r(i);
INSERT INTO sound_daily SELECT t.* REPLACE (sound_id || '~' || i AS sound_id)
FROM sound_daily t, range(1, $k) AS r(i);
