-- Quarantined records per stage and rule, with one example reason each.
SELECT stage, rule, count(*) AS records, min(reason) AS example
FROM quarantine
GROUP BY ALL
ORDER BY records DESC, stage, rule;
