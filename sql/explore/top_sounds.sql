-- `trendtrace sounds top`: the day's ranked sounds, optionally one stage only.
SELECT rank, sound_id, title, stage, stage_changed, from_stage, new_creators, new_posts, creators_7d, cum_creators,
       growth_7d, prev_rank, rank_change
FROM v_top_sounds
WHERE day = $day AND ($stage IS NULL OR stage = $stage)
ORDER BY rank
LIMIT $n
