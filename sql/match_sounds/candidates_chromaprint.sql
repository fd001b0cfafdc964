-- match_sounds: Chromaprint candidates by offset voting. `q_items(qid, key, pos)` holds the queries of one
-- chunk; references are the index plus the chunk's earlier queries (ref = -1 - qid), so a post can match
-- audio posted minutes before it ($chunk_refs false: the index only, for the end-of-day merge pass). Keys repeated within one query vote once per position.
-- Indexed audio is read from audio id $since_audio_id on: 0 for the whole index, the day's first new id for the
-- second pass over what the day itself added (pipelines/matching/engine.py); audio added after day $as_of (a rerun
-- of an earlier day) is not heard (store.index_as_of).
WITH refs AS (
    SELECT key, audio_id AS ref, pos FROM match_postings
    WHERE audio_id >= $since_audio_id
      AND audio_id NOT IN (SELECT audio_id FROM match_audio WHERE added_day > $as_of)
    UNION ALL
    SELECT key, -1 - qid AS ref, pos FROM q_items WHERE $chunk_refs
),
hits AS (
    SELECT q.qid, r.ref, r.pos - q.pos AS off, q.pos AS qpos
    FROM q_items q
    JOIN refs r ON r.key = q.key
    WHERE r.ref >= 0 OR -1 - r.ref < q.qid
),
votes AS (
    SELECT qid, ref, off, count(DISTINCT qpos) AS votes
    FROM hits
    GROUP BY qid, ref, off
    HAVING count(DISTINCT qpos) >= $min_votes
),
per_ref AS (
    SELECT *, row_number() OVER (PARTITION BY qid, ref ORDER BY votes DESC, off) AS rk_off FROM votes
),
-- at most $refs_per_sound indexed audios of one sound (its own and its indexed copies): a sound with many
-- copies must not crowd another sound of the post (a stitch's parent, a duet's other track) out of the top k
per_sound AS (
    SELECT p.*, dense_rank() OVER (PARTITION BY p.qid, coalesce(a.sound_id, p.ref::VARCHAR)
                                   ORDER BY p.ref_best DESC, p.ref) AS rk_ref
    FROM (SELECT *, max(votes) OVER (PARTITION BY qid, ref) AS ref_best FROM per_ref WHERE rk_off <= $offsets_per_ref) p
    LEFT JOIN match_audio a ON a.audio_id = p.ref
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY qid ORDER BY votes DESC, ref, off) AS rk
    FROM per_sound WHERE rk_ref <= $refs_per_sound
)
SELECT qid, ref, off, votes FROM ranked WHERE rk <= $top_k ORDER BY qid, rk;
