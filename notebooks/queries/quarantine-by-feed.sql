-- Which feeds produce which dirt, over the last N days.
-- dealctl query --file notebooks/queries/quarantine-by-feed.sql -p since:date=2026-11-16
SELECT
  json_extract_string(original, '$.feed') AS feed,
  error_code,
  count(*) AS n,
  any_value(message) AS example
FROM quarantine
WHERE dt >= $since
GROUP BY ALL
ORDER BY feed, n DESC
