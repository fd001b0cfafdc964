-- link_lineage, step 1: candidate parents for every post of lineage_scope (sql/link_lineage/scope.sql: the
-- partition's posts and the posts they can relink, of any age), from the evidence
-- in order of strength (docs/lineage.md): explicit duet id > caption "#duet/#stitch with @user" (audio picks
-- which of that user's earlier posts) > the audio alone (audio_stitch, audio_duet: ll_audio_fit) > platform
-- music id (first observed post of the music) > canonical sound (post_sounds). Audio (shared, aligned sounds,
-- the post-to-post fit) grades every candidate; the best one per child wins. The audio alone claims a duet
-- or stitch only when $audio_only (off by default: docs/lineage.md).
-- what the audio of each candidate pair says (frame audio_fit_in from pipelines/lineage/edges.py audio_fits:
-- child, parent, fit stitch|duet|NULL: what the audio alone claims, consistent: what it agrees with, score, audio JSON); empty when the audio evidence is switched off
CREATE OR REPLACE TEMP TABLE ll_audio_fit AS SELECT child, parent, fit, consistent, score, audio FROM audio_fit_in;

-- post_sounds.sound_id is already the canonical sound (the sound engine follows merges when it writes it)
CREATE OR REPLACE TEMP VIEW ll_sounds AS
SELECT post_id, sound_id, role, post_start_s, sound_start_s FROM post_sounds;

CREATE OR REPLACE TEMP TABLE ll_kids AS
SELECT post_id, author, created_at, ingest_day AS day, platform_music_id,
       nullif(duet_from_post_id, '') AS duet_from,
       lower(nullif(regexp_extract(caption, '(?i)(?:^|[^\w#])#?(duet|stitch) with @([\w.]+)', 1), '')) AS caption_rel,
       lower(nullif(regexp_extract(caption, '(?i)(?:^|[^\w#])#?(duet|stitch) with @([\w.]+)', 2), '')) AS caption_user,
       (SELECT arg_min(s.sound_id, s.post_start_s) FROM ll_sounds s WHERE s.post_id = posts.post_id AND s.role = 'primary') AS primary_sound
FROM posts
WHERE post_id IN (SELECT post_id FROM lineage_scope);

-- explicit duet ids: self-references, cycles, unobserved and younger parents are rejected, never followed
CREATE OR REPLACE TEMP TABLE ll_explicit AS
WITH RECURSIVE chain(child, cur, hops, looped) AS (
    SELECT post_id, duet_from, 1, FALSE FROM ll_kids WHERE duet_from IS NOT NULL
    UNION ALL
    SELECT c.child, p.duet_from_post_id, c.hops + 1, p.duet_from_post_id = c.child
    FROM chain c JOIN posts p ON p.post_id = c.cur
    WHERE NOT c.looped AND c.hops < 64 AND p.duet_from_post_id IS NOT NULL
),
cycles AS (SELECT child, bool_or(looped) AS cycle FROM chain GROUP BY child)
SELECT k.post_id AS child, k.duet_from AS parent, k.day,
       CASE WHEN k.duet_from = k.post_id THEN 'self'
            WHEN coalesce(c.cycle, FALSE) THEN 'cycle'
            WHEN p.post_id IS NULL THEN 'not_observed'
            WHEN p.created_at >= k.created_at THEN 'future'
       END AS reason
FROM ll_kids k
LEFT JOIN posts p ON p.post_id = k.duet_from
LEFT JOIN cycles c ON c.child = k.post_id
WHERE k.duet_from IS NOT NULL;

CREATE OR REPLACE TEMP TABLE ll_music_first AS
SELECT platform_music_id, arg_min(post_id, (created_at, post_id)) AS first_post_id
FROM posts
WHERE platform_music_id IN (SELECT platform_music_id FROM ll_kids)
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE ll_sound_first AS
SELECT s.sound_id, arg_min(s.post_id, (p.created_at, p.post_id)) AS first_post_id
FROM ll_sounds s JOIN posts p USING (post_id)
WHERE s.role = 'primary' AND s.sound_id IN (SELECT primary_sound FROM ll_kids)
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE ll_pairs AS
SELECT e.child, e.parent, 'duet' AS relation, 'duet_from_id' AS rule, 1 AS strength
FROM ll_explicit e WHERE e.reason IS NULL
UNION ALL
SELECT k.post_id, p.post_id, k.caption_rel, 'caption_' || k.caption_rel, 2
FROM ll_kids k JOIN posts p ON lower(p.author) = k.caption_user AND (p.created_at, p.post_id) < (k.created_at, k.post_id)
WHERE k.caption_user IS NOT NULL
UNION ALL
-- audio-only claims only when $audio_only (settings lineage.audio_only, default off); the fits still grade ids and captions
SELECT f.child, f.parent, f.fit, 'audio_' || f.fit, 3
FROM ll_audio_fit f JOIN ll_kids k ON k.post_id = f.child
WHERE f.fit IS NOT NULL AND $audio_only
UNION ALL
SELECT k.post_id, m.first_post_id, 'sound_reuse', 'music_id', 4
FROM ll_kids k JOIN ll_music_first m ON m.platform_music_id = k.platform_music_id JOIN posts p ON p.post_id = m.first_post_id
WHERE (p.created_at, p.post_id) < (k.created_at, k.post_id)
UNION ALL
SELECT k.post_id, f.first_post_id, CASE WHEN k.platform_music_id IS NULL THEN 'sound_reuse' ELSE 'reupload' END,
       'canonical_sound', 5
FROM ll_kids k
JOIN ll_sound_first f ON f.sound_id = k.primary_sound
JOIN posts p ON p.post_id = f.first_post_id
LEFT JOIN ll_music_first m ON m.platform_music_id = k.platform_music_id
WHERE (p.created_at, p.post_id) < (k.created_at, k.post_id)
  AND (k.platform_music_id IS NULL OR m.first_post_id = k.post_id);

-- audio between child and candidate: a shared sound, aligned when both the sound position and the post
-- position agree within $align_tol_s (a duet is the parent's audio; a stitch opens with the parent's opening);
-- among several aligned posts of the named user the smallest alignment error wins, then the most recent
CREATE OR REPLACE TEMP TABLE ll_audio AS
SELECT c.child, c.parent,
       bool_or(abs(a.sound_start_s - b.sound_start_s) <= $align_tol_s
               AND abs(a.post_start_s - b.post_start_s) <= $align_tol_s) AS aligned,
       -- ties (two sounds aligned equally well) go to the smaller sound id, so reruns agree
       arg_min(a.sound_id, (abs(a.sound_start_s - b.sound_start_s) + abs(a.post_start_s - b.post_start_s), a.sound_id)) AS via_sound,
       min(abs(a.sound_start_s - b.sound_start_s) + abs(a.post_start_s - b.post_start_s)) AS align_error_s,
       bool_or(a.role = 'primary' AND b.role = 'primary') AS same_primary
FROM (SELECT DISTINCT child, parent FROM ll_pairs) c
JOIN ll_sounds a ON a.post_id = c.child
JOIN ll_sounds b ON b.post_id = c.parent AND b.sound_id = a.sound_id
GROUP BY ALL;

-- every candidate with what the audio says about it; a caption candidate the audio contradicts is only kept
-- when it is the named user's one earlier post (then it is *the* claimed parent and the conflict is recorded)
CREATE OR REPLACE TEMP TABLE ll_graded AS
WITH heard AS (SELECT DISTINCT post_id FROM ll_sounds WHERE post_id IN (SELECT child FROM ll_pairs UNION SELECT parent FROM ll_pairs))
SELECT c.*, k.day, k.caption_user, k.platform_music_id AS child_music, k.duet_from,
       p.author AS parent_author, p.platform_music_id AS parent_music, p.created_at AS parent_created_at,
       a.child IS NOT NULL AS shared, coalesce(a.aligned, FALSE) AS aligned, a.via_sound, a.align_error_s,
       hc.post_id IS NOT NULL AND hp.post_id IS NOT NULL AS both_heard,
       count(*) OVER (PARTITION BY c.child, c.rule) AS rule_candidates,
       f.fit AS audio_fit, f.consistent AS audio_consistent, f.score AS audio_score, f.audio,
       -- the audio is consistent with some candidate parent of the child, and how well the best claim scores
       max(f.score) FILTER (WHERE f.fit IS NOT NULL) OVER (PARTITION BY c.child) AS best_fit_score,
       coalesce(bool_or(f.consistent IS NOT NULL) OVER (PARTITION BY c.child), FALSE) AS child_fits
FROM ll_pairs c
JOIN ll_kids k ON k.post_id = c.child
JOIN posts p ON p.post_id = c.parent
LEFT JOIN ll_audio a ON a.child = c.child AND a.parent = c.parent
LEFT JOIN ll_audio_fit f ON f.child = c.child AND f.parent = c.parent
LEFT JOIN heard hc ON hc.post_id = c.child
LEFT JOIN heard hp ON hp.post_id = c.parent;

CREATE OR REPLACE TEMP TABLE ll_chosen AS
WITH scored AS (
    SELECT *,
           CASE rule
               WHEN 'duet_from_id' THEN CASE WHEN audio_consistent = relation OR aligned THEN 0.99 WHEN shared THEN 0.97
                                             WHEN both_heard THEN 0.80 ELSE 0.95 END
               WHEN 'music_id' THEN CASE WHEN shared THEN 0.98 WHEN both_heard THEN 0.70 ELSE 0.90 END
               WHEN 'canonical_sound' THEN CASE WHEN aligned THEN 0.95 ELSE 0.90 END
               -- several earlier posts sound the same there (plain reuses of one sound from its start): time picks
               -- one of them, right about once in n_equivalent
               WHEN 'audio_stitch' THEN CASE WHEN tie THEN round(0.80 / n_equivalent, 3) WHEN aligned THEN 0.92 ELSE 0.88 END
               WHEN 'audio_duet' THEN CASE WHEN tie THEN round(0.80 / n_equivalent, 3) WHEN aligned THEN 0.92 ELSE 0.88 END
               -- captions
               ELSE CASE WHEN audio_consistent = relation THEN 0.99
                         WHEN child_fits AND audio_consistent IS NULL THEN 0.60  -- the audio fits another post
                         WHEN aligned THEN 0.97 WHEN shared THEN 0.85 WHEN both_heard THEN 0.50 ELSE 0.70 END
           END AS confidence
    FROM (SELECT *,
                 -- another fit of the same relation as good as this one: time decided
                 strength = 3 AND n_equivalent > 1 AS tie,
                 -- within a tie: the most similar opening first; time only among equally similar ones
                 count(*) FILTER (WHERE equivalent AND similarity = top_similarity) OVER (PARTITION BY child) > 1
                     AS similarity_tie
          FROM (SELECT *,
                       count(*) FILTER (WHERE equivalent) OVER (PARTITION BY child) AS n_equivalent,
                       list(parent ORDER BY similarity DESC, parent_created_at DESC, parent) FILTER (WHERE equivalent)
                           OVER (PARTITION BY child) AS equivalent_parents,
                       max(similarity) FILTER (WHERE equivalent) OVER (PARTITION BY child) AS top_similarity
                FROM (SELECT *, strength = 3 AND audio_score >= best_fit_score - $tie_score AS equivalent,
                             round(TRY_CAST(audio->>'head_similarity' AS DOUBLE), 2) AS similarity
                      FROM ll_graded)))
    WHERE NOT (strength = 2 AND both_heard AND NOT shared AND rule_candidates > 1
               AND coalesce(audio_consistent = relation, FALSE) = FALSE)
)
SELECT child AS child_post_id, parent AS parent_post_id, relation, confidence, day,
       json_merge_patch(json_object(
           'rule', rule,
           'sound_id', via_sound,
           'audio', CASE WHEN audio IS NOT NULL THEN json(audio) END,
           'signals', list_filter([
               rule,
               CASE WHEN aligned THEN 'audio_aligned' WHEN shared THEN 'audio_shared_sound' END,
               CASE WHEN strength <> 3 AND audio_consistent = relation THEN 'audio_' || audio_consistent END,
               CASE WHEN tie AND NOT similarity_tie THEN 'audio_tie_broken_by_similarity'
                    WHEN tie THEN 'audio_tie_broken_by_time' END,
               CASE WHEN caption_user = lower(parent_author) THEN 'caption_names_parent_author' END,
               CASE WHEN duet_from = parent THEN 'duet_from_id' END,
               CASE WHEN child_music = parent_music THEN 'same_music_id' END,
               'parent_older'], lambda s: s IS NOT NULL),
           'conflicts', list_filter([
               CASE WHEN both_heard AND NOT shared THEN 'audio_no_shared_sound' END,
               CASE WHEN caption_user IS NOT NULL AND caption_user <> lower(parent_author) THEN 'caption_names_other_user' END,
               CASE WHEN rule <> 'duet_from_id' AND duet_from IS NOT NULL THEN 'duet_from_id_rejected' END,
               CASE WHEN audio_consistent IS NOT NULL AND audio_consistent <> relation THEN 'audio_fits_' || audio_consistent END,
               CASE WHEN strength < 3 AND child_fits AND audio_consistent IS NULL THEN 'audio_fits_other_post' END],
               lambda s: s IS NOT NULL)
       ),
       -- on a tie: the posts the audio cannot tell apart from the chosen parent (it among them), most similar
       -- opening first, then the most recent
       CASE WHEN tie THEN json_object('audio_equivalent_parents', equivalent_parents[:$max_equivalent],
                                      'audio_equivalent_count', n_equivalent) ELSE '{}'::JSON END) AS evidence
FROM scored
QUALIFY row_number() OVER (
    PARTITION BY child
    ORDER BY strength, coalesce(audio_consistent = relation, FALSE) DESC, aligned DESC, shared DESC,
             equivalent DESC, CASE WHEN equivalent THEN similarity END DESC NULLS LAST,
             round(audio_score / $tie_score) DESC NULLS LAST, align_error_s NULLS LAST, parent_created_at DESC,
             parent) = 1;

CREATE OR REPLACE TEMP TABLE ll_rejected AS
SELECT child AS child_post_id, parent AS claimed_parent_post_id, 'duet_from_id' AS claim, reason, day
FROM ll_explicit WHERE reason IS NOT NULL
UNION ALL
SELECT k.post_id, NULL, 'caption_' || k.caption_rel, 'no_earlier_post', k.day
FROM ll_kids k
WHERE k.caption_user IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ll_pairs c WHERE c.child = k.post_id AND c.strength = 2)
UNION ALL
SELECT child, NULL, rule, 'no_audio_match', day
FROM ll_graded
WHERE strength = 2
GROUP BY child, rule, day
HAVING NOT bool_or(shared) AND bool_and(both_heard) AND count(*) > 1
   AND NOT bool_or(coalesce(audio_consistent = relation, FALSE));
