-- Every indexed landmark pair as `lm_index`: what the pair-hash voting read before the landmark candidate
-- lookup, kept as the reference it is checked against (tests/integration/test_match_landmark_candidates.py) and
-- measured against (scripts/bench_matching.py --scale).
SELECT hash, audio_id, t FROM match_landmark_postings
