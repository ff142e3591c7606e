-- features: the pricing model's training table. Trend features come from the previous day's
-- price_trends partition, so no example sees statistics that include its own price (no leakage).

-- @view day_deals
SELECT e.*
FROM enriched_deals e
WHERE e.dt = CAST(:run_date AS DATE);

-- @output features
SELECT
  e.deal_id,
  e.product_id,
  CAST(:run_date AS DATE) AS as_of,
  concat_ws(' ', e.title, nullif(e.description, '')) AS text,
  e.category,
  e.price AS deal_price,
  e.list_price,
  pt.mean_30d,
  pt.min_90d,
  pt.slope_30d,
  pt.change_pct,
  ct.mean_30d AS category_mean_30d,
  coalesce(pt.obs_90d, 0) AS obs_90d,
  length(e.title) AS title_length,
  e.match_confidence,
  e.product_price AS target_price
FROM day_deals e
LEFT JOIN trends_prev pt ON pt.scope = 'product' AND pt.scope_key = e.product_id
LEFT JOIN trends_prev ct ON ct.scope = 'category' AND ct.scope_key = e.category
WHERE e.product_id IS NOT NULL
  AND e.match_confidence >= CAST(:min_match_confidence AS DOUBLE);

-- @metrics
SELECT
  (SELECT count(*) FROM day_deals) AS rows_in,
  0 AS deduplicated,
  (SELECT count(*) FROM day_deals WHERE product_id IS NULL OR match_confidence < CAST(:min_match_confidence AS DOUBLE)) AS filtered
