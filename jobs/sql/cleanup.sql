-- cleanup: parse and validate the raw deals of one day, normalize them, quarantine what cannot be
-- priced (with a stable reason), and keep one deal per normalized url per 24 hours.
-- Portable SQL: runs unchanged on DuckDB and Spark (see docs/engines.md). No backslashes.

-- @view classified
WITH src AS (
  SELECT
    r.*,
    lower(trim(coalesce(r.price_text, ''))) AS pt,
    lower(coalesce(r.title, '')) AS tt
  FROM raw_deals r
  WHERE r.dt = CAST(:run_date AS DATE)
),
priced AS (
  SELECT
    s.*,
    CASE
      WHEN s.pt <> '' THEN s.pt
      WHEN re_matches(s.tt, ' for [$][0-9]') THEN regexp_extract(s.tt, ' for ([$][0-9][0-9,]*([.][0-9]+)?)', 1)
      ELSE NULL
    END AS price_src
  FROM src s
),
typed AS (
  SELECT
    p.*,
    CASE
      WHEN p.price_src IS NOT NULL AND re_matches(p.price_src, '^[$]? *[0-9][0-9,]*([.][0-9]+)?$') THEN 'exact'
      WHEN p.price_src IS NOT NULL AND re_matches(p.price_src, '^[0-9]+ for [$][0-9][0-9,]*([.][0-9]+)?$') THEN 'multibuy_unit'
      ELSE NULL
    END AS price_kind,
    coalesce(p.price_src, p.tt) AS price_probe
  FROM priced p
),
valued AS (
  SELECT
    t.*,
    CASE t.price_kind
      WHEN 'exact' THEN TRY_CAST(replace(replace(replace(t.price_src, '$', ''), ',', ''), ' ', '') AS DOUBLE)
      WHEN 'multibuy_unit' THEN
        TRY_CAST(replace(regexp_extract(t.price_src, '^([0-9]+) for [$]([0-9][0-9,]*([.][0-9]+)?)$', 2), ',', '') AS DOUBLE)
          / NULLIF(TRY_CAST(regexp_extract(t.price_src, '^([0-9]+) for ', 1) AS DOUBLE), 0)
      ELSE NULL
    END AS price_value,
    -- https://, no www., no query/fragment, no trailing slash, lower case: one regex pass.
    lower(concat('https://', regexp_extract(trim(coalesce(t.url, '')), '^([a-zA-Z]+://)?(www[.])?([^?#]*[^?#/])?/*([?#].*)?$', 3))) AS norm_url
  FROM typed t
)
SELECT
  v.*,
  CASE
    WHEN v.url IS NULL OR trim(v.url) = '' OR v.title IS NULL OR trim(v.title) = '' THEN 'missing_field'
    WHEN v.expires_at IS NOT NULL AND v.expires_at <= v.seen_at THEN 'expired'
    WHEN v.price_kind IS NOT NULL AND v.price_value IS NULL THEN 'unparseable_price'
    WHEN v.price_kind IS NOT NULL AND v.price_value <= 0 THEN 'non_positive_price'
    WHEN v.price_kind IS NOT NULL AND v.price_value > CAST(:max_plausible_price AS DOUBLE) THEN 'implausible_price'
    WHEN v.price_kind IS NOT NULL THEN NULL
    WHEN re_matches(v.price_probe, '^ *(-|[$] *-)') THEN 'non_positive_price'
    WHEN re_matches(v.price_probe, '^free( |$)') THEN 'non_positive_price'
    WHEN re_matches(v.price_probe, '([$][0-9][0-9,.]*|[0-9]+ *%) off') THEN 'discount_not_price'
    WHEN re_matches(v.price_probe, '(^|[ (])(from|starting at) [$][0-9]') THEN 'from_price'
    WHEN lower(coalesce(v.deal_type, '')) = 'sale' THEN 'sale_without_price'
    WHEN v.price_src IS NULL THEN 'missing_price'
    ELSE 'unparseable_price'
  END AS error_code
FROM valued v;

-- @table valid
WITH decoded AS (
  SELECT
    c.*,
    -- Feeds escape HTML once or twice (&amp;lt;p&amp;gt;): undo the outer &amp; first, then the markup entities.
    replace(replace(replace(replace(replace(coalesce(c.summary, ''), '&amp;', '&'), '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', chr(39)) AS summary_decoded
  FROM classified c
  WHERE c.error_code IS NULL
)
SELECT
  d.raw_id,
  substr(md5(d.norm_url), 1, 16) AS deal_id,
  d.norm_url AS url,
  -- One pass each: the offer suffix goes from its first marker to the end; markup and
  -- whitespace runs collapse to one space together (regex passes dominate cleanup's cost).
  trim(re_replace_all(
    regexp_replace(d.title, ' ((for|at) [$][0-9]|[+] free shipping).*$', ''),
    ' *[(]was [$][0-9][0-9,.]*[)]', ''
  )) AS title,
  trim(re_replace_all(
    replace(replace(d.summary_decoded, '&nbsp;', ' '), '&amp;', '&'),
    concat('(<[^>]*>|[ ', chr(9), chr(10), chr(13), '])+'), ' '
  )) AS description,
  d.price_value AS price,
  d.price_kind,
  TRY_CAST(replace(regexp_extract(d.summary_decoded, '(?i)(was|down from|list price|reg[.]?) [$]([0-9][0-9,]*([.][0-9]+)?)', 2), ',', '') AS DOUBLE) AS list_price_raw,
  d.category_hint AS category,
  d.feed AS source,
  d.retailer,
  coalesce(d.published_at, d.seen_at) AS event_time,
  d.seen_at,
  d.expires_at
FROM decoded d;

-- @table ranked
SELECT
  v.*,
  row_number() OVER (PARTITION BY v.deal_id ORDER BY v.seen_at ASC NULLS LAST, v.source ASC NULLS LAST, v.raw_id ASC NULLS LAST) AS rn,
  CASE WHEN p.deal_id IS NULL THEN 0 ELSE 1 END AS seen_yesterday
FROM valid v
LEFT JOIN deals_prev p
  ON p.deal_id = v.deal_id
  AND epoch_seconds(v.seen_at) - epoch_seconds(p.seen_at) < CAST(:dedupe_window_hours AS DOUBLE) * 3600.0;

-- @output deals
SELECT
  r.deal_id,
  r.url,
  r.title,
  r.description,
  r.price,
  r.price_kind,
  CASE WHEN r.list_price_raw > 0 THEN r.list_price_raw ELSE NULL END AS list_price,
  r.category,
  r.source,
  r.retailer,
  r.event_time,
  r.seen_at,
  r.expires_at
FROM ranked r
WHERE r.rn = 1 AND r.seen_yesterday = 0;

-- @output quarantine
SELECT
  :run_id AS run_id,
  'cleanup' AS step,
  c._source_file AS source,
  c._source_row AS source_row,
  c.raw_id AS record_id,
  c.error_code,
  CASE c.error_code
    WHEN 'missing_field' THEN 'url or title is missing (truncated record?)'
    WHEN 'expired' THEN concat('offer expired at ', CAST(c.expires_at AS STRING), ' before it was seen')
    WHEN 'unparseable_price' THEN concat('cannot read a price from "', coalesce(c.price_src, ''), '"')
    WHEN 'non_positive_price' THEN concat('price "', coalesce(c.price_src, c.price_probe, ''), '" is not above zero')
    WHEN 'implausible_price' THEN concat('price ', CAST(c.price_value AS STRING), ' is above the plausible maximum')
    WHEN 'discount_not_price' THEN concat('"', c.price_probe, '" is a discount, not a price')
    WHEN 'from_price' THEN concat('"', c.price_probe, '" is a starting price of several products, not a price')
    WHEN 'sale_without_price' THEN 'store-wide sale without a single product price'
    ELSE 'no price in price text or title'
  END AS message,
  raw_deal_json(c.raw_id, c.feed, c.title, c.summary, c.url, c.price_text, c.retailer, c.deal_type, c.category_hint, c.published_at, c.expires_at, c.seen_at) AS original
FROM classified c
WHERE c.error_code IS NOT NULL;

-- @metrics
SELECT
  (SELECT count(*) FROM classified) AS rows_in,
  (SELECT count(*) FROM ranked WHERE rn > 1 OR seen_yesterday = 1) AS deduplicated,
  0 AS filtered
