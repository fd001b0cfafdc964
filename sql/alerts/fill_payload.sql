-- The delivered JSON document of every alert that has none yet (fixed at recording time, so a resend
-- sends the same document). Top cascades: the sound's largest cascades begun by the alert's day.
UPDATE alerts SET payload = p.payload
FROM (
    WITH ranked AS (
        SELECT a.alert_id, c.root_post_id, c.size, c.creators, c.depth, c.structural_virality, c.first_seen,
               row_number() OVER (
                   PARTITION BY a.alert_id ORDER BY c.size DESC, c.creators DESC, c.root_post_id
               ) AS rank
        FROM alerts a
        JOIN cascades c ON c.sound_id = a.sound_id AND c.first_seen < a.day + INTERVAL 1 DAY
        WHERE a.payload IS NULL
    ),
    tops AS (
        SELECT alert_id,
               list({'root_post_id': root_post_id, 'size': size, 'creators': creators, 'depth': depth,
                     'structural_virality': structural_virality, 'first_seen': first_seen} ORDER BY rank) AS top_cascades
        FROM ranked
        WHERE rank <= $top_cascades
        GROUP BY alert_id
    )
    SELECT a.alert_id,
           to_json({
               'event': 'alert',
               'alert_id': a.alert_id,
               'sound_id': a.sound_id,
               'title': s.title,
               'rule': a.rule,
               'kind': a.kind,
               'level': a.level,
               'label': a.label,
               'value': a.value,
               'threshold': a.threshold,
               'day': strftime(a.day, '%Y-%m-%d'),
               'created_at': strftime(a.created_at, '%Y-%m-%dT%H:%M:%SZ'),
               'top_cascades': coalesce(to_json(t.top_cascades), '[]'::JSON),
               'report': replace(replace(replace($report, '{sound_id}', a.sound_id),
                                         '{day}', strftime(a.day, '%Y-%m-%d')), '{alert_id}', a.alert_id::VARCHAR),
               -- what to run next: the sound's story, and the tree of its biggest cascade
               'sound_command': 'trendtrace sound ' || a.sound_id,
               'lineage_command': CASE WHEN t.top_cascades IS NOT NULL
                                       THEN 'trendtrace lineage ' || t.top_cascades[1].root_post_id END
           }) AS payload
    FROM alerts a
    LEFT JOIN sounds s ON s.sound_id = a.sound_id
    LEFT JOIN tops t ON t.alert_id = a.alert_id
    WHERE a.payload IS NULL
) p
WHERE alerts.alert_id = p.alert_id;
