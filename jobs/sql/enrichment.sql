-- enrichment: join the day's deals to the product catalog. Exact normalized-title matches get
-- confidence 1.0; otherwise the first three title tokens (brand + model) must match and the
-- confidence falls with how different the full titles are. Unmatched deals keep the feed category.

-- @table deal_keys
-- Only the match keys: the wide deal rows are read again by the output, never copied into a table.
WITH k AS (
  SELECT
    d.deal_id,
    d.price,
    -- Only A-Z are folded (Unicode lower-casing differs between the engines: Turkish dotted I).
    -- Every run of non-alphanumerics becomes one space; the pattern leaves a single space between
    -- words alone (no match there), which halves the cost of this pass over '[^a-z0-9]+'.
    trim(re_replace_all(ascii_lower(d.title), ' *[^a-z0-9 ][^a-z0-9]*| {2,}', ' ')) AS title_key
  FROM deals d
  WHERE d.dt = CAST(:run_date AS DATE)
)
SELECT
  k.*,
  nullif(regexp_extract(k.title_key, '^[a-z0-9]+ [a-z0-9]+ [a-z0-9]+', 0), '') AS model_key
FROM k;

-- @table product_keys
WITH k AS (
  SELECT p.*, trim(re_replace_all(ascii_lower(p.title), ' *[^a-z0-9 ][^a-z0-9]*| {2,}', ' ')) AS title_key
  FROM products p
)
SELECT
  k.*,
  nullif(regexp_extract(k.title_key, '^[a-z0-9]+ [a-z0-9]+ [a-z0-9]+', 0), '') AS model_key,
  row_number() OVER (PARTITION BY k.title_key ORDER BY k.product_id ASC NULLS LAST) AS title_rank
FROM k;

-- @table candidates
SELECT
  d.deal_id,
  p.product_id,
  p.title AS product_title,
  p.price AS product_price,
  p.category AS product_category,
  'exact_title' AS match_method,
  1.0 AS match_confidence,
  0 AS priority,
  0.0 AS price_gap
FROM deal_keys d
JOIN product_keys p ON p.title_key = d.title_key AND p.title_rank = 1
UNION ALL
SELECT
  d.deal_id,
  p.product_id,
  p.title,
  p.price,
  p.category,
  'model_key',
  0.5 + 0.4 * CAST(least(length(d.title_key), length(p.title_key)) AS DOUBLE)
    / CAST(greatest(length(d.title_key), length(p.title_key), 1) AS DOUBLE),
  1,
  abs(p.price - d.price)
FROM deal_keys d
JOIN product_keys p
  ON p.model_key = d.model_key
  AND p.title_key <> d.title_key;

-- @table best
SELECT c.*
FROM (
  SELECT
    c.*,
    row_number() OVER (
      PARTITION BY c.deal_id
      ORDER BY c.priority ASC NULLS LAST, c.price_gap ASC NULLS LAST, c.product_id ASC NULLS LAST
    ) AS rk
  FROM candidates c
) c
WHERE c.rk = 1;

-- @output enriched_deals
SELECT
  d.deal_id,
  d.url,
  d.link,
  d.title,
  d.description,
  d.price,
  d.price_kind,
  d.price_source,
  d.list_price,
  d.list_price_source,
  coalesce(b.product_category, d.category, 'Unknown') AS category,
  d.source,
  d.retailer,
  d.event_time,
  d.seen_at,
  d.expires_at,
  b.product_id,
  b.product_title,
  b.product_price,
  coalesce(b.match_method, 'none') AS match_method,
  coalesce(b.match_confidence, 0.0) AS match_confidence
FROM deals d
LEFT JOIN best b ON b.deal_id = d.deal_id
WHERE d.dt = CAST(:run_date AS DATE);

-- @metrics
SELECT (SELECT count(*) FROM deal_keys) AS rows_in, 0 AS deduplicated, 0 AS filtered
