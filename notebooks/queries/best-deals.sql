-- Best deals of a day: offers furthest below their product's 30-day mean.
-- dealctl query --file notebooks/queries/best-deals.sql -p d:date=2026-11-22
SELECT
  e.title,
  e.price,
  t.mean_30d,
  round(100 * (t.mean_30d - e.price) / t.mean_30d, 1) AS pct_below_30d_mean,
  t.is_all_time_low,
  e.source,
  e.url
FROM enriched_deals e
JOIN price_trends t ON t.scope = 'product' AND t.scope_key = e.product_id AND t.as_of = e.dt
WHERE e.dt = $d AND t.obs_30d >= 2
ORDER BY pct_below_30d_mean DESC NULLS LAST
LIMIT 20
