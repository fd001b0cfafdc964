-- match_sounds: every indexed landmark pair, as `lm_index` for the speed-corrected queries (a changed query's
-- triplets do not meet the index's, so those few queries, unexplained as posted, scan all postings).
SELECT hash, audio_id, t FROM match_landmark_postings
