-- price_trends: per product and per category statistics over the 7/30/90 days ending on run_date.
-- The all-time low is carried forward from the previous day's partition, so it covers the whole
-- lake history without rescanning it.

-- @view obs
SELECT
  e.deal_id,
  e.product_id,
  e.category,
  e.price,
  e.event_time,
  days_between(e.dt, CAST(:run_date AS DATE)) AS age_days,
  (epoch_seconds(e.event_time) - epoch_seconds(CAST(CAST(:run_date AS DATE) AS TIMESTAMP))) / 86400.0 AS t_days
FROM enriched_deals e
WHERE e.dt <= CAST(:run_date AS DATE)
  AND days_between(e.dt, CAST(:run_date AS DATE)) < 90;

-- @view scoped
SELECT 'product' AS scope, o.product_id AS scope_key, o.category, o.price, o.event_time, o.deal_id, o.age_days, o.t_days
FROM obs o
WHERE o.product_id IS NOT NULL
UNION ALL
SELECT 'category' AS scope, o.category AS scope_key, o.category, o.price, o.event_time, o.deal_id, o.age_days, o.t_days
FROM obs o;

-- @table stats
SELECT
  s.scope,
  s.scope_key,
  max(s.category) AS category,
  sum(CASE WHEN s.age_days < 7 THEN 1 ELSE 0 END) AS obs_7d,
  avg(CASE WHEN s.age_days < 7 THEN s.price END) AS mean_7d,
  min(CASE WHEN s.age_days < 7 THEN s.price END) AS min_7d,
  max(CASE WHEN s.age_days < 7 THEN s.price END) AS max_7d,
  stddev_samp(CASE WHEN s.age_days < 7 THEN s.price END) AS stddev_7d,
  sum(CASE WHEN s.age_days < 30 THEN 1 ELSE 0 END) AS obs_30d,
  avg(CASE WHEN s.age_days < 30 THEN s.price END) AS mean_30d,
  min(CASE WHEN s.age_days < 30 THEN s.price END) AS min_30d,
  max(CASE WHEN s.age_days < 30 THEN s.price END) AS max_30d,
  stddev_samp(CASE WHEN s.age_days < 30 THEN s.price END) AS stddev_30d,
  count(*) AS obs_90d,
  avg(s.price) AS mean_90d,
  min(s.price) AS min_90d,
  max(s.price) AS max_90d,
  stddev_samp(s.price) AS stddev_90d,
  max(s.event_time) AS last_seen_at,
  CASE
    -- A slope needs two distinct times: max > min says so without a DISTINCT aggregation.
    WHEN max(CASE WHEN s.age_days < 30 THEN s.t_days END) > min(CASE WHEN s.age_days < 30 THEN s.t_days END)
      THEN regr_slope(CASE WHEN s.age_days < 30 THEN s.price END, CASE WHEN s.age_days < 30 THEN s.t_days END)
    ELSE NULL
  END AS slope_30d
FROM scoped s
GROUP BY s.scope, s.scope_key;

-- @table latest
-- The newest observation per scope key: the keys' newest time comes from stats' aggregation,
-- so only the rows at that time (ties are rare) need ranking, not every observation.
WITH newest AS (
  SELECT s.scope, s.scope_key, s.price, s.event_time, s.deal_id
  FROM scoped s
  JOIN stats st ON st.scope = s.scope AND st.scope_key = s.scope_key AND s.event_time = st.last_seen_at
)
SELECT l.scope, l.scope_key, l.price AS last_price, l.event_time AS last_seen_at
FROM (
  SELECT
    n.*,
    row_number() OVER (
      PARTITION BY n.scope, n.scope_key
      ORDER BY n.deal_id DESC NULLS LAST, n.price ASC NULLS LAST
    ) AS rn
  FROM newest n
) l
WHERE l.rn = 1;

-- @output price_trends
SELECT
  st.scope,
  st.scope_key,
  st.category,
  CAST(:run_date AS DATE) AS as_of,
  st.obs_7d, st.mean_7d, st.min_7d, st.max_7d, st.stddev_7d,
  st.obs_30d, st.mean_30d, st.min_30d, st.max_30d, st.stddev_30d,
  st.obs_90d, st.mean_90d, st.min_90d, st.max_90d, st.stddev_90d,
  la.last_price,
  la.last_seen_at,
  (la.last_price - st.mean_30d) / NULLIF(st.mean_30d, 0) * 100.0 AS change_pct,
  CASE WHEN pv.all_time_low IS NULL THEN st.min_90d ELSE least(pv.all_time_low, st.min_90d) END AS all_time_low,
  la.last_price <= CASE WHEN pv.all_time_low IS NULL THEN st.min_90d ELSE least(pv.all_time_low, st.min_90d) END AS is_all_time_low,
  st.slope_30d
FROM stats st
JOIN latest la ON la.scope = st.scope AND la.scope_key = st.scope_key
LEFT JOIN trends_prev pv ON pv.scope = st.scope AND pv.scope_key = st.scope_key;

-- @metrics
SELECT (SELECT count(*) FROM obs) AS rows_in, 0 AS deduplicated, 0 AS filtered
