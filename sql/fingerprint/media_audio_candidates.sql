-- fingerprint: one ingest_day's validated posts (all of them: the stage judges the day afresh and replaces
-- its own rejections) with what decoding their media measured, for the media_audio contract.
SELECT row_number() OVER (ORDER BY p.source_file, p.source_record) - 1 AS _row,
       p.post_id, p.media_path, p.source_file, p.source_format, p.source_line, p.source_record,
       s.raw,
       coalesce(m.decoded, false) AS decoded,
       m.duration_s AS audio_duration_s,
       m.peak_dbfs,
       coalesce(m.error, CASE WHEN m.audio_sha256 IS NULL THEN 'not decoded yet' END) AS decode_error
FROM validated_posts p
LEFT JOIN media_checks m USING (audio_sha256)
LEFT JOIN stg_posts s
       ON s.ingest_day = p.ingest_day AND s.source_file = p.source_file AND s.source_record = p.source_record
WHERE p.ingest_day = $day
ORDER BY _row;
