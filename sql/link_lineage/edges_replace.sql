-- link_lineage, step 2: replace the window's edges and rejected claims with the chosen candidates.
DELETE FROM lineage_edges WHERE day BETWEEN $first_day AND $day;
INSERT INTO lineage_edges BY NAME SELECT child_post_id, parent_post_id, relation, confidence, evidence, day FROM ll_chosen;
DELETE FROM lineage_rejections WHERE day BETWEEN $first_day AND $day;
INSERT INTO lineage_rejections BY NAME SELECT * FROM ll_rejected;
