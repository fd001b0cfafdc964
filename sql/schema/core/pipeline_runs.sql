-- pipeline_runs: written by every stage through pipelines/runlog.py (sql/runlog/record_run.sql)
CREATE TABLE IF NOT EXISTS pipeline_runs (
    run_id       VARCHAR NOT NULL,
    day          DATE NOT NULL,
    task         VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,
    rows_in      BIGINT,
    rows_out     BIGINT,
    seconds      DOUBLE,
    message      VARCHAR,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL
);
COMMENT ON TABLE pipeline_runs IS 'One row per stage execution (a log: reruns add rows). The newest row per (day, task) is the current state.';
COMMENT ON COLUMN pipeline_runs.run_id IS 'Airflow dag run id (or "cli" when a stage ran outside Airflow).';
COMMENT ON COLUMN pipeline_runs.day IS 'The partition day the stage processed.';
COMMENT ON COLUMN pipeline_runs.task IS 'Stage name: ingest, validate, fingerprint, match_sounds, link_lineage, build_cascades, adoption, alerts, publish.';
COMMENT ON COLUMN pipeline_runs.status IS 'success, no_data (nothing to do: no partition for the day, no posts in the window) or failed.';
COMMENT ON COLUMN pipeline_runs.rows_in IS 'Rows the stage read.';
COMMENT ON COLUMN pipeline_runs.rows_out IS 'Rows the stage wrote to its main output.';
COMMENT ON COLUMN pipeline_runs.seconds IS 'Wall time.';
COMMENT ON COLUMN pipeline_runs.message IS 'Human-readable summary or error.';
COMMENT ON COLUMN pipeline_runs.started_at IS 'When the stage started (UTC).';
COMMENT ON COLUMN pipeline_runs.finished_at IS 'When it finished (UTC).';
