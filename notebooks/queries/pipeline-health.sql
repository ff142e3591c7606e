-- Step durations, row counts and DQ warnings per run.
-- dealctl query --file notebooks/queries/pipeline-health.sql
SELECT
  r.run_date,
  r.step,
  r.status,
  r.rows_in,
  r.rows_out,
  r.quarantined,
  r.deduplicated,
  date_diff('millisecond', CAST(r.started_at AS TIMESTAMP), CAST(r.ended_at AS TIMESTAMP)) / 1000.0 AS seconds,
  (SELECT count(*) FROM dq_results d WHERE d.run_id = r.run_id AND d.step = r.step AND d.status <> 'pass') AS dq_not_passing
FROM runs r
WHERE r.status IN ('succeeded', 'failed')
ORDER BY r.run_date, r.started_at
