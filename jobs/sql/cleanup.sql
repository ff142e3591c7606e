-- cleanup: parse and validate the raw deals of one day, normalize them, quarantine what cannot be
-- priced (with a stable reason), and keep one deal per normalized url per 24 hours.
-- Portable SQL: runs unchanged on DuckDB and Spark (see docs/engines.md). No backslashes.

-- @view classified
WITH blanked AS (
  SELECT
    r.*,
    trim_spaces(coalesce(r.url, '')) AS url_t,
    -- Every Unicode blank (no-break, thin, ideographic spaces…) counts as a space.
    trim(blanks_to_space(coalesce(r.price_text, ''))) AS pt_blanked
  FROM raw_deals r
  WHERE r.dt = CAST(:run_date AS DATE)
),
src AS (
  -- Only A-Z are folded (Unicode lower-casing differs between the engines). Macro arguments are
  -- columns computed one step before: a macro may use its argument several times.
  SELECT b.*, ascii_lower(b.pt_blanked) AS pt, ascii_lower(coalesce(b.title, '')) AS title_l
  FROM blanked b
),
priced AS (
  -- Where the price is read from, in this order: the price text, the title ("… for $248"), the
  -- description ("Now $9, down from $21.99", "for $149.99 $249.99": the first amount after "now"
  -- or "for"). The description is read only when the title is not a discount, a from-price, a
  -- freebie or a store-wide sale: those keep their quarantine reason.
  SELECT
    s.*,
    CASE
      WHEN s.pt <> '' THEN 'price_text'
      WHEN re_matches(s.title_l, ' for [$][0-9]') THEN 'title'
      WHEN re_matches(coalesce(s.summary, ''), '(^|[^A-Za-z])([Nn]ow|NOW|[Ff]or|FOR) [$][0-9]')
        AND NOT re_matches(s.title_l, '([$][0-9][0-9,.]*|[0-9]+ *%) off|(^|[ (])(from|starting at) [$][0-9]|^ *free( |$)')
        AND ascii_lower(coalesce(s.deal_type, '')) <> 'sale' THEN 'description'
      ELSE NULL
    END AS price_source
  FROM src s
),
sourced AS (
  SELECT
    p.*,
    CASE p.price_source
      WHEN 'price_text' THEN p.pt
      WHEN 'title' THEN regexp_extract(p.title_l, ' for ([$][0-9][0-9,]*([.][0-9]+)?)', 1)
      WHEN 'description' THEN regexp_extract(p.summary, '(^|[^A-Za-z])(?:[Nn]ow|NOW|[Ff]or|FOR) ([$][0-9][0-9,]*([.][0-9]+)?)', 2)
      ELSE NULL
    END AS price_src
  FROM priced p
),
typed AS (
  SELECT
    p.*,
    CASE
      WHEN p.price_src IS NOT NULL AND re_matches(p.price_src, '^[$]? *[0-9][0-9,]*([.][0-9]+)?$') THEN 'exact'
      WHEN p.price_src IS NOT NULL AND re_matches(p.price_src, '^[0-9]+ for [$][0-9][0-9,]*([.][0-9]+)?$') THEN 'multibuy_unit'
      ELSE NULL
    END AS price_kind,
    CASE WHEN p.price_src IS NULL THEN p.title_l ELSE p.price_src END AS price_probe,
    -- The url without scheme, query and fragment, and its query: regexes without capture groups
    -- (RE2 then stays on its fast path), anchored where they replace.
    regexp_replace(regexp_extract(p.url_t, '^[^?#]*', 0), '^[a-zA-Z][a-zA-Z0-9+.-]*://', '') AS url_rest,
    CASE WHEN contains(p.url_t, '?') THEN substr(regexp_extract(p.url_t, '[?][^#]*', 0), 2) END AS url_query
  FROM sourced p
),
urls AS (
  SELECT
    t.*,
    regexp_extract(t.url_rest, '^[^/]*', 0) AS url_host,
    url_query_key(t.url_query) AS url_query_kept
  FROM typed t
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
    -- The deal's identity: https://, the host in ASCII lower case without www., the path as it
    -- is (paths are case-sensitive) without trailing slashes, and the query without tracking
    -- parameters, the rest in a canonical order (docs/nightly.md lists the parameters).
    concat(
      'https://',
      regexp_replace(
        concat(
          regexp_replace(ascii_lower(t.url_host), '^www[.]', ''),
          substr(t.url_rest, length(t.url_host) + 1)
        ),
        '[/ ]+$', ''
      ),
      CASE WHEN coalesce(t.url_query_kept, '') <> '' THEN concat('?', t.url_query_kept) ELSE '' END
    ) AS norm_url
  FROM urls t
)
SELECT
  v.*,
  CASE
    -- "[^ ]" finds a non-blank character without copying the string as trim() would.
    WHEN v.url IS NULL OR NOT re_matches(v.url, '[^ ]') OR v.title IS NULL OR NOT re_matches(v.title, '[^ ]')
      OR v.raw_id IS NULL OR v.feed IS NULL OR v.seen_at IS NULL THEN 'missing_field'
    WHEN v.expires_at IS NOT NULL AND v.expires_at < v.seen_at THEN 'expired'
    WHEN v.price_kind IS NOT NULL AND v.price_value IS NULL THEN 'unparseable_price'
    WHEN v.price_kind IS NOT NULL AND v.price_value <= 0 THEN 'non_positive_price'
    WHEN v.price_kind IS NOT NULL AND v.price_value > CAST(:max_plausible_price AS DOUBLE) THEN 'implausible_price'
    WHEN v.price_kind IS NOT NULL THEN NULL
    WHEN re_matches(v.price_probe, '^ *(-|[$] *-)') THEN 'non_positive_price'
    WHEN re_matches(v.price_probe, '^free( |$)') THEN 'non_positive_price'
    WHEN re_matches(v.price_probe, '([$][0-9][0-9,.]*|[0-9]+ *%) off') THEN 'discount_not_price'
    WHEN re_matches(v.price_probe, '(^|[ (])(from|starting at) [$][0-9]') THEN 'from_price'
    WHEN ascii_lower(coalesce(v.deal_type, '')) = 'sale' THEN 'sale_without_price'
    WHEN v.price_src IS NULL THEN 'missing_price'
    ELSE 'unparseable_price'
  END AS error_code
FROM valued v;

-- @table keyed
-- One narrow row per raw row, without the free text: deduplication ranks these (so its sort never
-- carries titles and summaries) and the text work of the deals output runs only for the rows that
-- survive it. A quarantined row gets its message and original record here, once.
SELECT
  c._source_key,
  CASE WHEN c.error_code IS NOT NULL THEN c._source_file END AS _source_file,
  c._source_row,
  c.raw_id,
  c.error_code,
  CASE WHEN c.error_code IS NULL THEN substr(md5(c.norm_url), 1, 16) END AS deal_id,
  c.norm_url,
  c.price_value,
  c.price_kind,
  c.price_source,
  c.feed,
  c.seen_at,
  CASE c.error_code
    WHEN 'missing_field' THEN 'a required field (url, title, raw_id, feed, seen_at) is missing (truncated record?)'
    WHEN 'expired' THEN concat('offer expired at ', CAST(c.expires_at AS STRING), ' before it was seen')
    WHEN 'unparseable_price' THEN concat('cannot read a price from "', coalesce(c.price_src, ''), '"')
    WHEN 'non_positive_price' THEN concat('price "', coalesce(c.price_src, c.price_probe, ''), '" is not above zero')
    WHEN 'implausible_price' THEN concat('price ', amount_text(c.price_value), ' is above the plausible maximum')
    WHEN 'discount_not_price' THEN concat('"', c.price_probe, '" is a discount, not a price')
    WHEN 'from_price' THEN concat('"', c.price_probe, '" is a starting price of several products, not a price')
    WHEN 'sale_without_price' THEN 'store-wide sale without a single product price'
    WHEN 'missing_price' THEN 'no price in price text, title or description'
    ELSE NULL
  END AS message,
  CASE WHEN c.error_code IS NOT NULL THEN
    raw_deal_json(c.raw_id, c.feed, c.title, c.summary, c.url, c.price_text, c.retailer, c.deal_type, c.category_hint, c.published_at, c.expires_at, c.seen_at)
  END AS original
FROM classified c;

-- @table winners
-- One event per deal per batch (a day for the nightly, a micro-batch for the stream), on narrow
-- rows only (no text):
-- - no event of the deal within the dedupe window before the batch: its first sighting (by time,
--   then feed, then id);
-- - else a price drop: the first sighting whose price is below the last event's price by at least
--   :price_drop_pct percent AND :price_drop_usd dollars (same or higher prices stay duplicates).
-- The previous events are reduced to the latest per deal id (its time and price) and joined on
-- the id alone: an equi-join stays a hash join (a time condition inside ON made it a nested-loop
-- join: 30x slower). The stream fills deals_prev from its dedupe state with the same two values.
WITH prev_latest AS (
  SELECT l.deal_id, l.seen_at AS last_seen_at, l.price AS last_price
  FROM (
    SELECT p.deal_id, p.seen_at, p.price,
      row_number() OVER (PARTITION BY p.deal_id ORDER BY p.seen_at DESC NULLS LAST, p.price ASC NULLS LAST) AS rn
    FROM deals_prev p
  ) l
  WHERE l.rn = 1
),
firsts AS (
  -- Whether the window holds the deal is decided by its first sighting of the batch (later ones
  -- of the same batch are duplicates of it, or price drops).
  SELECT k.deal_id, min(k.seen_at) AS first_seen_at
  FROM keyed k
  WHERE k.error_code IS NULL
  GROUP BY k.deal_id
),
windowed AS (
  SELECT
    f.deal_id,
    CASE WHEN pl.last_seen_at IS NOT NULL
      AND epoch_seconds(f.first_seen_at) - epoch_seconds(pl.last_seen_at) < CAST(:dedupe_window_hours AS DOUBLE) * 3600.0
      THEN 1 ELSE 0 END AS in_window,
    pl.last_price
  FROM firsts f
  LEFT JOIN prev_latest pl ON pl.deal_id = f.deal_id
),
sighted AS (
  SELECT
    k._source_key,
    k.deal_id,
    k.norm_url,
    k.price_value,
    k.price_kind,
    k.price_source,
    k.seen_at,
    k.feed,
    k.raw_id,
    w.in_window,
    CASE WHEN w.in_window = 1 THEN w.last_price END AS window_price
  FROM keyed k
  JOIN windowed w ON w.deal_id = k.deal_id
  WHERE k.error_code IS NULL
),
flagged AS (
  SELECT
    s.*,
    CASE WHEN s.in_window = 0 THEN 1
      WHEN s.window_price IS NOT NULL
        AND s.window_price - s.price_value >= CAST(:price_drop_usd AS DOUBLE)
        AND (s.window_price - s.price_value) * 100.0 >= CAST(:price_drop_pct AS DOUBLE) * s.window_price THEN 1
      ELSE 0 END AS is_event
  FROM sighted s
),
candidates AS (
  SELECT
    f.*,
    row_number() OVER (
      PARTITION BY f.deal_id
      ORDER BY f.is_event DESC NULLS LAST, f.seen_at ASC NULLS LAST, f.feed ASC NULLS LAST, f.raw_id ASC NULLS LAST
    ) AS rn
  FROM flagged f
)
SELECT
  w._source_key,
  w.deal_id,
  w.norm_url,
  w.price_value,
  w.price_kind,
  w.price_source
FROM candidates w
WHERE w.rn = 1 AND w.is_event = 1;

-- @output deals
WITH texts AS (
  SELECT
    w.deal_id,
    w.norm_url,
    w.price_value,
    w.price_kind,
    w.price_source,
    r.title,
    r.url AS link,
    -- Feeds escape HTML once or twice (&amp;lt;p&amp;gt;). One regex pass over the raw text removes
    -- tags in any of those spellings with the whitespace around them, whitespace runs, and &nbsp;;
    -- the entities left in the text are decoded after it, each only where present.
    re_replace_all(
      coalesce(r.summary, ''),
      concat(
        '[ ', chr(9), chr(10), chr(13), ']*((&(amp;)?lt;|<)/?[a-zA-Z][^<>]*?(&(amp;)?gt;|>)[ ', chr(9), chr(10), chr(13), ']*)+',
        '|[ ', chr(9), chr(10), chr(13), ']{2,}|[', chr(9), chr(10), chr(13), ']|&nbsp;'
      ),
      ' '
    ) AS summary_stripped,
    r.category_hint,
    r.feed,
    r.retailer,
    r.published_at,
    r.seen_at,
    r.expires_at
  FROM raw_deals r
  JOIN winners w ON w._source_key = r._source_key
  WHERE r.dt = CAST(:run_date AS DATE)
),
decoded AS (
  SELECT
    t.*,
    -- Every entity the feeds write (jobs/macros.ts HTML_ENTITIES), after &amp; is undone twice.
    decode_entities(t.summary_stripped) AS s2,
    decode_entities(t.title) AS title_d
  FROM texts t
),
cut AS (
  SELECT
    a.*,
    -- One pass each: the offer suffix goes from its first marker to the end; a "(was $…)" only where present.
    regexp_replace(
      CASE WHEN contains(a.title_d, '(was') THEN re_replace_all(a.title_d, ' *[(]was [$][0-9][0-9,.]*[)]', '') ELSE a.title_d END,
      ' ((for|at) [$][0-9]|[+] free shipping).*$', ''
    ) AS title_cut
  FROM decoded a
),
described AS (
  -- trim_spaces takes columns: its argument is used more than once.
  SELECT x.*, trim_spaces(x.s2) AS description
  FROM cut x
),
quoted AS (
  -- The feed's own reference price, in this order: a "was", "down from", "list", "reg." price of
  -- the description; the second amount of "for $149.99 $249.99"; a "(was $399)" of the title;
  -- the price plus a stated saving ("That's $140 off"). Each regex runs only where its words are.
  SELECT
    d.*,
    TRY_CAST(replace(regexp_extract(d.description, '(?:[Ww]as|WAS|[Dd]own from|[Ll]ist(?: price)?:?|LIST|[Rr]eg(?:[.]|ularly)?) [$]([0-9][0-9,]*(?:[.][0-9]+)?)', 1), ',', '') AS DOUBLE) AS list_said,
    CASE WHEN re_matches(d.description, '[Ff]or [$][0-9][0-9,.]* [$][0-9]') THEN
      TRY_CAST(replace(regexp_extract(d.description, '[Ff]or [$][0-9][0-9,]*(?:[.][0-9]+)? [$]([0-9][0-9,]*(?:[.][0-9]+)?)', 1), ',', '') AS DOUBLE)
    END AS list_pair,
    CASE WHEN contains(d.title, '$') THEN
      TRY_CAST(replace(regexp_extract(d.title, '[(](?:[Ww]as|[Ll]ist|[Rr]eg[.]?) [$]([0-9][0-9,]*(?:[.][0-9]+)?)[)]', 1), ',', '') AS DOUBLE)
    END AS list_title,
    CASE WHEN re_matches(d.description, ' [$][0-9][0-9,.]* off') THEN
      TRY_CAST(replace(regexp_extract(d.description, '(?:[Tt]hat|[Ii]t)[^ ]{0,7}s (?:a )?[$]([0-9][0-9,]*(?:[.][0-9]+)?) off', 1), ',', '') AS DOUBLE)
    END AS saving_said
  FROM described d
),
listed AS (
  SELECT
    q.*,
    CASE
      WHEN q.list_said > 0 THEN 'description'
      WHEN q.list_pair > 0 THEN 'description'
      WHEN q.list_title > 0 THEN 'title'
      WHEN q.saving_said > 0 THEN 'saving'
      ELSE NULL
    END AS list_price_source,
    CASE
      WHEN q.list_said > 0 THEN q.list_said
      WHEN q.list_pair > 0 THEN q.list_pair
      WHEN q.list_title > 0 THEN q.list_title
      WHEN q.saving_said > 0 THEN round(q.price_value + q.saving_said, 2)
      ELSE NULL
    END AS list_price_raw
  FROM quoted q
)
SELECT
  d.deal_id,
  d.norm_url AS url,
  trim_spaces(d.link) AS link,
  trim_spaces(d.title_cut) AS title,
  d.description,
  d.price_value AS price,
  d.price_kind,
  d.price_source,
  d.list_price_raw AS list_price,
  d.list_price_source,
  d.category_hint AS category,
  d.feed AS source,
  d.retailer,
  coalesce(d.published_at, d.seen_at) AS event_time,
  d.seen_at,
  d.expires_at
FROM listed d;

-- @output quarantine
SELECT
  :run_id AS run_id,
  'cleanup' AS step,
  k._source_file AS source,
  k._source_row AS source_row,
  k.raw_id AS record_id,
  k.error_code,
  k.message,
  k.original
FROM keyed k
WHERE k.error_code IS NOT NULL;

-- @metrics
SELECT
  (SELECT count(*) FROM keyed) AS rows_in,
  (SELECT count(*) FROM keyed WHERE error_code IS NULL) - (SELECT count(*) FROM winners) AS deduplicated,
  0 AS filtered
