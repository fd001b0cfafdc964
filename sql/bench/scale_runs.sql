-- scripts/bench_scale.py: what every stage recorded for the backfill's runs (pipeline_runs)
SELECT run_id, day, task, status, rows_in, rows_out, seconds
FROM pipeline_runs
ORDER BY day, started_at;
