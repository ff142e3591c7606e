-- price_trends: per product and per category statistics over the 7/30/90 days ending on run_date,
-- rolled up from daily aggregates. Today's aggregates are computed from today's enriched deals
-- (and written to price_daily); the 89 days before are read back from price_daily. A night's cost
-- grows with its own input, not with the length of the history. Variances and the slope combine
-- the days' centred moments exactly (Chan et al.: M2 = Σ M2_d + Σ n_d (mean_d − mean)²), which
-- keeps steady prices at a standard deviation of 0 where sums of squares would cancel.
-- The all-time low is carried forward from the previous day's partition, so it covers the whole
-- lake history without rescanning it. test/fixtures/price-trends-full-scan.sql is the reference.

-- @view obs
-- t_days: days after the start of run_date (today's day), from the observation time.
SELECT
  e.deal_id,
  e.product_id,
  e.category,
  e.price,
  e.event_time,
  (epoch_seconds(e.event_time) - epoch_seconds(CAST(CAST(:run_date AS DATE) AS TIMESTAMP))) / 86400.0 AS t_days
FROM enriched_deals e
WHERE e.dt = CAST(:run_date AS DATE);

-- @view scoped
SELECT 'product' AS scope, o.product_id AS scope_key, o.category, o.price, o.event_time, o.deal_id, o.t_days
FROM obs o
WHERE o.product_id IS NOT NULL
UNION ALL
SELECT 'category' AS scope, o.category AS scope_key, o.category, o.price, o.event_time, o.deal_id, o.t_days
FROM obs o;

-- @table day_stats
SELECT
  s.scope,
  s.scope_key,
  max(s.category) AS category,
  count(*) AS obs,
  sum(s.price) AS price_sum,
  sum(s.price * s.price) AS price_sum_sq,
  min(s.price) AS price_min,
  max(s.price) AS price_max,
  var_pop(s.price) * CAST(count(*) AS DOUBLE) AS price_m2,
  avg(s.t_days) AS time_mean,
  var_pop(s.t_days) * CAST(count(*) AS DOUBLE) AS time_m2,
  covar_pop(s.price, s.t_days) * CAST(count(*) AS DOUBLE) AS price_time_m2,
  min(s.event_time) AS first_seen_at,
  max(s.event_time) AS last_seen_at
FROM scoped s
GROUP BY s.scope, s.scope_key;

-- @table daily
-- Today's row per scope key, with its newest observation: only the rows at the key's newest time
-- (ties are rare) are ranked — by deal id (greatest first), then price (lowest first).
WITH newest AS (
  SELECT s.scope, s.scope_key, s.price, s.deal_id
  FROM scoped s
  JOIN day_stats d ON d.scope = s.scope AND d.scope_key = s.scope_key AND s.event_time = d.last_seen_at
),
ranked AS (
  SELECT
    n.*,
    row_number() OVER (
      PARTITION BY n.scope, n.scope_key
      ORDER BY n.deal_id DESC NULLS LAST, n.price ASC NULLS LAST
    ) AS rn
  FROM newest n
)
SELECT
  d.scope,
  d.scope_key,
  d.category,
  CAST(:run_date AS DATE) AS day,
  d.obs,
  d.price_sum,
  d.price_sum_sq,
  d.price_min,
  d.price_max,
  d.price_m2,
  d.time_mean,
  d.time_m2,
  d.price_time_m2,
  d.first_seen_at,
  d.last_seen_at,
  r.deal_id AS last_deal_id,
  r.price AS last_price
FROM day_stats d
JOIN ranked r ON r.scope = d.scope AND r.scope_key = d.scope_key AND r.rn = 1;

-- @output price_daily
SELECT d.* FROM daily d;

-- @view days
-- Today and the 89 days before, each day's mean time moved onto today's time axis (t − age).
SELECT
  a.scope,
  a.scope_key,
  a.category,
  a.age_days,
  a.obs,
  a.price_sum,
  a.price_sum / CAST(a.obs AS DOUBLE) AS price_mean,
  a.price_min,
  a.price_max,
  a.price_m2,
  a.time_mean - CAST(a.age_days AS DOUBLE) AS time_mean,
  a.time_m2,
  a.price_time_m2,
  a.first_seen_at,
  a.last_seen_at,
  a.last_deal_id,
  a.last_price
FROM (
  SELECT d.scope, d.scope_key, d.category, 0 AS age_days, d.obs, d.price_sum, d.price_min, d.price_max,
    d.price_m2, d.time_mean, d.time_m2, d.price_time_m2, d.first_seen_at, d.last_seen_at, d.last_deal_id, d.last_price
  FROM daily d
  UNION ALL
  SELECT h.scope, h.scope_key, h.category, days_between(h.dt, CAST(:run_date AS DATE)) AS age_days, h.obs,
    h.price_sum, h.price_min, h.price_max, h.price_m2, h.time_mean, h.time_m2, h.price_time_m2, h.first_seen_at,
    h.last_seen_at, h.last_deal_id, h.last_price
  FROM daily_hist h
  WHERE h.dt < CAST(:run_date AS DATE)
    AND days_between(h.dt, CAST(:run_date AS DATE)) < 90
) a;

-- @table totals
-- First pass: counts, sums and extremes per window; the means the second pass centres on.
SELECT
  t.*,
  t.sum_7 / NULLIF(CAST(t.obs_7d AS DOUBLE), 0) AS mean_7d,
  t.sum_30 / NULLIF(CAST(t.obs_30d AS DOUBLE), 0) AS mean_30d,
  t.tsum_30 / NULLIF(CAST(t.obs_30d AS DOUBLE), 0) AS time_mean_30d,
  t.sum_90 / CAST(t.obs_90d AS DOUBLE) AS mean_90d
FROM (
  SELECT
    d.scope,
    d.scope_key,
    max(d.category) AS category,
    sum(CASE WHEN d.age_days < 7 THEN d.obs ELSE 0 END) AS obs_7d,
    sum(CASE WHEN d.age_days < 7 THEN d.price_sum END) AS sum_7,
    min(CASE WHEN d.age_days < 7 THEN d.price_min END) AS min_7d,
    max(CASE WHEN d.age_days < 7 THEN d.price_max END) AS max_7d,
    sum(CASE WHEN d.age_days < 30 THEN d.obs ELSE 0 END) AS obs_30d,
    sum(CASE WHEN d.age_days < 30 THEN d.price_sum END) AS sum_30,
    sum(CASE WHEN d.age_days < 30 THEN CAST(d.obs AS DOUBLE) * d.time_mean END) AS tsum_30,
    min(CASE WHEN d.age_days < 30 THEN d.price_min END) AS min_30d,
    max(CASE WHEN d.age_days < 30 THEN d.price_max END) AS max_30d,
    min(CASE WHEN d.age_days < 30 THEN d.first_seen_at END) AS first_seen_30d,
    max(CASE WHEN d.age_days < 30 THEN d.last_seen_at END) AS last_seen_30d,
    sum(d.obs) AS obs_90d,
    sum(d.price_sum) AS sum_90,
    min(d.price_min) AS min_90d,
    max(d.price_max) AS max_90d,
    max(d.last_seen_at) AS last_seen_at
  FROM days d
  GROUP BY d.scope, d.scope_key
) t;

-- @table spread
-- Second pass: each window's centred moments from the days' moments and their distance to the
-- window's means.
SELECT
  d.scope,
  d.scope_key,
  sum(CASE WHEN d.age_days < 7 THEN d.price_m2 + CAST(d.obs AS DOUBLE) * (d.price_mean - t.mean_7d) * (d.price_mean - t.mean_7d) END) AS m2_7,
  sum(CASE WHEN d.age_days < 30 THEN d.price_m2 + CAST(d.obs AS DOUBLE) * (d.price_mean - t.mean_30d) * (d.price_mean - t.mean_30d) END) AS m2_30,
  sum(CASE WHEN d.age_days < 30 THEN d.time_m2 + CAST(d.obs AS DOUBLE) * (d.time_mean - t.time_mean_30d) * (d.time_mean - t.time_mean_30d) END) AS tm2_30,
  sum(CASE WHEN d.age_days < 30 THEN d.price_time_m2 + CAST(d.obs AS DOUBLE) * (d.price_mean - t.mean_30d) * (d.time_mean - t.time_mean_30d) END) AS ptm2_30,
  sum(d.price_m2 + CAST(d.obs AS DOUBLE) * (d.price_mean - t.mean_90d) * (d.price_mean - t.mean_90d)) AS m2_90
FROM days d
JOIN totals t ON t.scope = d.scope AND t.scope_key = d.scope_key
GROUP BY d.scope, d.scope_key;

-- @table latest
-- The newest observation per scope key over the window: only the days whose newest observation is
-- the key's newest (from totals) are ranked, alike: greatest deal id first, then lowest price.
SELECT l.scope, l.scope_key, l.last_price, l.last_seen_at
FROM (
  SELECT
    d.scope,
    d.scope_key,
    d.last_price,
    d.last_seen_at,
    row_number() OVER (
      PARTITION BY d.scope, d.scope_key
      ORDER BY d.last_deal_id DESC NULLS LAST, d.last_price ASC NULLS LAST
    ) AS rn
  FROM days d
  JOIN totals t ON t.scope = d.scope AND t.scope_key = d.scope_key AND t.last_seen_at = d.last_seen_at
) l
WHERE l.rn = 1;

-- @output price_trends
SELECT
  st.scope,
  st.scope_key,
  st.category,
  CAST(:run_date AS DATE) AS as_of,
  st.obs_7d,
  st.mean_7d,
  st.min_7d,
  st.max_7d,
  CASE WHEN st.obs_7d > 1 THEN sqrt(sp.m2_7 / CAST(st.obs_7d - 1 AS DOUBLE)) END AS stddev_7d,
  st.obs_30d,
  st.mean_30d,
  st.min_30d,
  st.max_30d,
  CASE WHEN st.obs_30d > 1 THEN sqrt(sp.m2_30 / CAST(st.obs_30d - 1 AS DOUBLE)) END AS stddev_30d,
  st.obs_90d,
  st.mean_90d,
  st.min_90d,
  st.max_90d,
  CASE WHEN st.obs_90d > 1 THEN sqrt(sp.m2_90 / CAST(st.obs_90d - 1 AS DOUBLE)) END AS stddev_90d,
  la.last_price,
  la.last_seen_at,
  (la.last_price - st.mean_30d) / NULLIF(st.mean_30d, 0) * 100.0 AS change_pct,
  CASE WHEN pv.all_time_low IS NULL THEN st.min_90d ELSE least(pv.all_time_low, st.min_90d) END AS all_time_low,
  la.last_price <= CASE WHEN pv.all_time_low IS NULL THEN st.min_90d ELSE least(pv.all_time_low, st.min_90d) END AS is_all_time_low,
  -- A slope needs two distinct times in the window.
  CASE WHEN st.last_seen_30d > st.first_seen_30d THEN sp.ptm2_30 / NULLIF(sp.tm2_30, 0) END AS slope_30d
FROM totals st
JOIN spread sp ON sp.scope = st.scope AND sp.scope_key = st.scope_key
JOIN latest la ON la.scope = st.scope AND la.scope_key = st.scope_key
LEFT JOIN trends_prev pv ON pv.scope = st.scope AND pv.scope_key = st.scope_key;

-- @metrics
-- Every observation of the 90 days lands in exactly one category row.
SELECT
  (SELECT coalesce(sum(d.obs), 0) FROM days d WHERE d.scope = 'category') AS rows_in,
  0 AS deduplicated,
  0 AS filtered
