import { defineRecord, field } from './field.ts';

/** The product categories of the catalog (as in the prototype's data set). */
export const CATEGORIES = [
  'Appliances',
  'Automotive',
  'Cell_Phones_and_Accessories',
  'Electronics',
  'Musical_Instruments',
  'Office_Products',
  'Tools_and_Home_Improvement',
  'Toys_and_Games',
] as const;
export type Category = (typeof CATEGORIES)[number];

/**
 * Stable reasons a record is quarantined. Codes never change meaning; new ones are appended.
 * Each one is documented in docs/nightly.md.
 */
export const QUARANTINE_CODES = [
  'missing_field',
  'missing_price',
  'discount_not_price',
  'from_price',
  'sale_without_price',
  'unparseable_price',
  'non_positive_price',
  'implausible_price',
  'expired',
  'unmatched_category',
  'unreadable_file',
] as const;
export type QuarantineCode = (typeof QUARANTINE_CODES)[number];

/** Where a deal's price was read (Deal.price_source). */
export const PRICE_SOURCES = ['price_text', 'title', 'description'] as const;
/** Where a deal's reference price was read (Deal.list_price_source). */
export const LIST_PRICE_SOURCES = ['description', 'title', 'saving'] as const;

/** A deal as scanned from a feed, before any parsing. Every field but the capture facts may be missing. */
export const RawDeal = defineRecord({
  name: 'raw_deals',
  description: 'Deal feed entries exactly as scanned (RSS/Atom item or API record), landed per scan day.',
  key: ['raw_id'],
  fields: {
    raw_id: field.string('Unique id of this capture: feed + guid (or link) + seen time, hashed.'),
    feed: field.string('Feed the entry came from (name or URL).'),
    title: field.string('Entry title; usually "<product> for $<price> + free shipping".').nullable_(),
    summary: field.string('Entry description, often escaped HTML.').nullable_(),
    url: field.string('Entry link, with tracking suffixes as published.').nullable_(),
    price_text: field
      .string('Price as written by the feed ("$1,299.99", "from $19", "2 for $30", "Free").')
      .nullable_(),
    retailer: field.string('Retailer named by the feed (dealnews:retailer).').nullable_(),
    deal_type: field
      .string('Feed deal type (dealnews:dealType), e.g. "Sale" for store-wide promotions.')
      .nullable_(),
    category_hint: field.string('Category of the feed page the entry was found on.').nullable_(),
    published_at: field.timestamp('Publication time (pubDate), UTC.').nullable_(),
    expires_at: field.timestamp('Offer expiry (dealnews:expires), UTC.').nullable_(),
    seen_at: field.timestamp('When the scanner saw the entry, UTC.'),
  },
});

/** A parsed, validated deal: one priced offer for one product. */
export const Deal = defineRecord({
  name: 'deals',
  description: 'Parsed, validated, deduplicated deals (one row per deal per 24 h).',
  key: ['deal_id'],
  fields: {
    deal_id: field.string('Stable id: first 16 hex chars of md5(url) (the normalized url).', {
      maxLength: 16,
    }),
    url: field.string(
      'Normalized url the id is built from: https, ASCII lower-case host without www., path as published, query without tracking parameters in canonical order, no fragment.',
    ),
    link: field.string('The link as the feed published it (tracking suffixes included): the one to click.'),
    title: field.string('Product title with the offer text removed.', { text: true }),
    description: field.string('Plain-text summary (HTML stripped, entities decoded).', { text: true }),
    price: field.float64('Offer price in USD, per unit.', { gtZero: true }),
    price_kind: field.string('How the price was read.', { oneOf: ['exact', 'multibuy_unit'] }),
    price_source: field
      .string(
        'Where the price was read: the price text, the title ("… for $248") or only the description ("Now $9, down from $21.99").',
        {
          oneOf: PRICE_SOURCES,
        },
      )
      .nullable_(),
    list_price: field
      .float64('Reference ("was") price quoted by the feed, USD.', { gtZero: true })
      .nullable_(),
    list_price_source: field
      .string(
        'Where the reference price was read: the description ("was $399", "down from", "list", "for $149.99 $249.99"), the title ("(was $399)"), or the price plus a stated saving ("That\'s $140 off").',
        { oneOf: LIST_PRICE_SOURCES },
      )
      .nullable_(),
    category: field.string('Category hinted by the feed.').nullable_(),
    source: field.string('Feed the deal was first seen in.'),
    retailer: field.string('Retailer, when the feed names one.').nullable_(),
    event_time: field.timestamp('Publication time (or seen time when unpublished), UTC.'),
    seen_at: field.timestamp('First time the scanner saw it, UTC.'),
    expires_at: field.timestamp('Offer expiry, UTC.').nullable_(),
  },
});

/** A product of the reference catalog. */
export const Product = defineRecord({
  name: 'products',
  description: 'Product catalog used as the reference for matching and pricing.',
  key: ['product_id'],
  fields: {
    product_id: field.string('Catalog id.'),
    title: field.string('Product title.', { text: true }),
    description: field.string('Product description.', { text: true }),
    category: field.string('Catalog category.', { oneOf: CATEGORIES }),
    price: field.float64('Reference (true) price in USD.', { gtZero: true }),
  },
});

/** A deal joined to the catalog product it is for. */
export const EnrichedDeal = defineRecord({
  name: 'enriched_deals',
  description: 'Deals joined to the product catalog with a match confidence; category filled.',
  key: ['deal_id'],
  fields: {
    ...Deal.fields,
    category: field.string('Category: the matched product’s, else the feed’s, else "Unknown".'),
    product_id: field.string('Matched catalog product.').nullable_(),
    product_title: field.string('Matched product title.').nullable_(),
    product_price: field.float64('Matched product reference price, USD.').nullable_(),
    match_method: field.string('How the product was matched.', {
      oneOf: ['exact_title', 'model_key', 'none'],
    }),
    match_confidence: field.float64('Confidence of the match, 0..1.', { min: 0, max: 1 }),
  },
});

/**
 * One day's price observations of one product (or one category), summarized once so that the
 * 7/30/90-day trends roll days up instead of rescanning 90 days of deals. Besides count, sum, sum
 * of squares, min, max and last, it keeps the centred moments (Σ(p − p̄)², Σ(t − t̄)²,
 * Σ(p − p̄)(t − t̄)) the rollup combines exactly (Chan et al.): variances from sums of squares
 * cancel catastrophically for steady prices.
 */
export const PriceDaily = defineRecord({
  name: 'price_daily',
  description: 'Per product and per category daily price aggregates (the input of price_trends).',
  key: ['scope', 'scope_key', 'day'],
  fields: {
    scope: field.string('What the row describes.', { oneOf: ['product', 'category'] }),
    scope_key: field.string('product_id or category name.'),
    category: field.string(
      'Category of the product (or the category itself); the greatest name seen that day.',
    ),
    day: field.date('Day (partition) of the observations.'),
    obs: field.int64('Observations that day.', { min: 1 }),
    price_sum: field.float64('Sum of the prices.'),
    price_sum_sq: field.float64('Sum of the squared prices.'),
    price_min: field.float64('Lowest price.'),
    price_max: field.float64('Highest price.'),
    price_m2: field.float64('Σ(price − mean)², the centred second moment.', { min: 0 }),
    time_mean: field.float64('Mean observation time, days after the start of `day` (event_time based).'),
    time_m2: field.float64('Σ(time − mean time)², days².', { min: 0 }),
    price_time_m2: field.float64('Σ(price − mean)(time − mean time), USD·days.'),
    first_seen_at: field.timestamp('Earliest observation time (event_time).'),
    last_seen_at: field.timestamp('Latest observation time (event_time).'),
    last_deal_id: field.string('Deal of the latest observation (ties: greatest deal id).'),
    last_price: field.float64('Price of the latest observation (ties: greatest deal id, then lowest price).'),
  },
});

/** Price statistics of one product (or one category) as of one day. */
export const PriceTrend = defineRecord({
  name: 'price_trends',
  description: 'Per product and per category price statistics over 7/30/90-day windows ending on as_of.',
  key: ['scope', 'scope_key'],
  fields: {
    scope: field.string('What the row describes.', { oneOf: ['product', 'category'] }),
    scope_key: field.string('product_id or category name.'),
    category: field.string('Category of the product (or the category itself).'),
    as_of: field.date('Last day of every window.'),
    obs_7d: field.int64('Observations in the last 7 days.', { min: 0 }),
    mean_7d: field.float64('Mean price, last 7 days.').nullable_(),
    min_7d: field.float64('Lowest price, last 7 days.').nullable_(),
    max_7d: field.float64('Highest price, last 7 days.').nullable_(),
    stddev_7d: field.float64('Sample standard deviation, last 7 days.').nullable_(),
    obs_30d: field.int64('Observations in the last 30 days.', { min: 0 }),
    mean_30d: field.float64('Mean price, last 30 days.').nullable_(),
    min_30d: field.float64('Lowest price, last 30 days.').nullable_(),
    max_30d: field.float64('Highest price, last 30 days.').nullable_(),
    stddev_30d: field.float64('Sample standard deviation, last 30 days.').nullable_(),
    obs_90d: field.int64('Observations in the last 90 days.', { min: 1 }),
    mean_90d: field.float64('Mean price, last 90 days.'),
    min_90d: field.float64('Lowest price, last 90 days.'),
    max_90d: field.float64('Highest price, last 90 days.'),
    stddev_90d: field.float64('Sample standard deviation, last 90 days.').nullable_(),
    last_price: field.float64('Most recent observed price.'),
    last_seen_at: field.timestamp('Time of the most recent observation.'),
    change_pct: field.float64('Last price vs the 30-day mean, percent.').nullable_(),
    all_time_low: field.float64('Lowest price ever observed in the lake.'),
    is_all_time_low: field.boolean('The last price is the lowest ever observed.'),
    slope_30d: field.float64('Least-squares trend of price over the last 30 days, USD per day.').nullable_(),
  },
});

/** One training example for the pricing model. */
export const Feature = defineRecord({
  name: 'features',
  description:
    'Training table for the pricing model: deal text, category, price and trend features, target price.',
  key: ['deal_id'],
  fields: {
    deal_id: field.string('Deal the example comes from.'),
    product_id: field.string('Matched product (the label source).'),
    as_of: field.date('Day of the deal.'),
    text: field.string('Model input text: title and description.', { text: true }),
    category: field.string('Category.'),
    deal_price: field.float64('Offer price, USD.', { gtZero: true }),
    list_price: field.float64('Quoted reference price, USD.').nullable_(),
    mean_30d: field.float64('Product 30-day mean price.').nullable_(),
    min_90d: field.float64('Product 90-day low.').nullable_(),
    slope_30d: field.float64('Product 30-day price trend, USD per day.').nullable_(),
    change_pct: field.float64('Last price vs 30-day mean, percent.').nullable_(),
    category_mean_30d: field.float64('Category 30-day mean price.').nullable_(),
    obs_90d: field.int64('Product observations in 90 days.', { min: 0 }),
    title_length: field.int32('Title length in characters.', { min: 0 }),
    match_confidence: field.float64('Confidence of the product match.', { min: 0, max: 1 }),
    target_price: field.float64('Label: the product’s reference price, USD.', { gtZero: true }),
  },
});

/** A record that failed validation, kept with the reason instead of being dropped. */
export const QuarantineRecord = defineRecord({
  name: 'quarantine',
  description: 'Invalid records kept aside with a stable reason code.',
  key: ['run_id', 'step', 'record_id'],
  fields: {
    run_id: field.string('Run that quarantined the record.'),
    step: field.string('Job or stage that rejected it.'),
    source: field.string('Where it came from: file, topic/partition or feed.'),
    source_row: field.int64('Row (or offset) within the source, when known.').nullable_(),
    record_id: field.string('Id of the record, when it has one.').nullable_(),
    error_code: field.string('Stable reason code.', { oneOf: QUARANTINE_CODES }),
    message: field.string('What was wrong, for humans.'),
    original: field.string('The original record, JSON.'),
  },
});

/** One step of one run of the nightly pipeline (the run ledger). */
export const RunStep = defineRecord({
  name: 'runs',
  description: 'Run ledger: one row per pipeline step attempt.',
  key: ['run_id', 'step'],
  fields: {
    run_id: field.string('Run id.'),
    run_date: field.date('Data date the run processed.'),
    engine: field.string('Engine that executed the step.', { oneOf: ['duckdb', 'spark', 'emr'] }),
    step: field.string('Job name.'),
    status: field.string('Outcome.', { oneOf: ['running', 'succeeded', 'failed', 'skipped'] }),
    attempt: field.int32('Attempt number (retries of transient errors).', { min: 1 }),
    started_at: field.timestamp('Start.'),
    ended_at: field.timestamp('End.').nullable_(),
    rows_in: field.int64('Input rows.').nullable_(),
    rows_out: field.int64('Output rows.').nullable_(),
    quarantined: field.int64('Rows quarantined.').nullable_(),
    deduplicated: field.int64('Rows removed as duplicates.').nullable_(),
    fingerprint: field.string('Hash of inputs, job SQL and config: equal fingerprints mean equal outputs.'),
    message: field.string('Error or skip reason.').nullable_(),
  },
});

/** The data-quality checks the nightly runner evaluates on every output (docs/nightly.md). */
export const DQ_CHECKS = [
  'completeness',
  'validity',
  'freshness',
  'row_count_change',
  'quarantine_rate',
  'conservation',
  'unreadable_files',
] as const;
export type DqCheck = (typeof DQ_CHECKS)[number];

/** The DqResult columns that name the step a check belongs to (the rest is the check itself). */
export const DQ_STEP_FIELDS = ['run_id', 'run_date', 'step'] as const;

/** One data-quality check of one output of one step (the `dq_results` view; kept in the ledger's step detail). */
export const DqResult = defineRecord({
  name: 'dq_results',
  description: 'Data-quality check results: one row per check per output per step of a run.',
  key: ['run_id', 'step', 'output', 'check'],
  fields: {
    run_id: RunStep.fields.run_id,
    run_date: RunStep.fields.run_date,
    step: RunStep.fields.step,
    output: field.string('Output table the check ran on.'),
    check: field.string('Which check.', { oneOf: DQ_CHECKS }),
    status: field.string('Outcome: a failing check fails the step, a warning does not.', {
      oneOf: ['pass', 'warn', 'fail'],
    }),
    value: field
      .float64('Measured value (a rate, a count or hours), when the check measures one.')
      .nullable_(),
    threshold: field.float64('Threshold the value was compared with, when any.').nullable_(),
    message: field.string('What the check found, for humans.'),
  },
});

export const RECORDS = {
  raw_deals: RawDeal,
  deals: Deal,
  products: Product,
  enriched_deals: EnrichedDeal,
  price_daily: PriceDaily,
  price_trends: PriceTrend,
  features: Feature,
  quarantine: QuarantineRecord,
  runs: RunStep,
  dq_results: DqResult,
} as const;
export type RecordName = keyof typeof RECORDS;
