-- link_lineage, step 2: replace the scope's edges and rejected claims with the chosen candidates; the rows a
-- previous run of partition $day ($first_day … $day) wrote for posts it no longer holds go too (day = $day).
DELETE FROM lineage_edges
WHERE child_post_id IN (SELECT post_id FROM lineage_scope) OR child_post_id IN (SELECT post_id FROM scope_seed)
   OR day BETWEEN $first_day AND $day;
INSERT INTO lineage_edges BY NAME SELECT child_post_id, parent_post_id, relation, confidence, evidence, day FROM ll_chosen;
DELETE FROM lineage_rejections
WHERE child_post_id IN (SELECT post_id FROM lineage_scope) OR child_post_id IN (SELECT post_id FROM scope_seed)
   OR day BETWEEN $first_day AND $day;
INSERT INTO lineage_rejections BY NAME SELECT * FROM ll_rejected;
