-- validate: one day's staged records, numbered (_row) in source order, with what the posts contract needs:
--   duplicate_of  where the first copy of a repeated post id in this batch stands (NULL for the first copy)
--   owned_by      the earliest other ingest_day whose posts already hold this post id (the view posts: a post
--                 fingerprint quarantined there does not count). A record with owned_by is a re-observation:
--                 its counters go to post_stats, the post keeps its row from the owning partition.
WITH staged AS (
    SELECT s.*,
           row_number() OVER (ORDER BY s.source_file, s.source_record) - 1 AS _row,
           row_number() OVER (PARTITION BY s.post_id ORDER BY s.source_file, s.source_record) AS copy_no,
           first_value(s.source_file || coalesce(' line ' || s.source_line, ' record ' || s.source_record))
               OVER (PARTITION BY s.post_id ORDER BY s.source_file, s.source_record) AS first_copy
    FROM stg_posts s
    WHERE s.ingest_day = $day
),
earlier AS (
    SELECT post_id, min(ingest_day) AS ingest_day
    FROM posts
    WHERE ingest_day <> $day AND post_id IN (SELECT post_id FROM staged)
    GROUP BY post_id
)
SELECT staged.* EXCLUDE (copy_no, first_copy),
       CASE WHEN staged.post_id IS NOT NULL AND copy_no > 1 THEN first_copy END AS duplicate_of,
       earlier.ingest_day AS owned_by
FROM staged
LEFT JOIN earlier USING (post_id)
ORDER BY _row;
