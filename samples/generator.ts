import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { UsageError } from '../core/errors.ts';
import { addDays, assertDate, type Lake } from '../core/lake.ts';
import { sqlString } from '../jobs/sql-text.ts';
import { Product, RawDeal, sqlProjectionOf } from '../schemas/index.ts';
import { sameFolder } from './same-folder.ts';
import { DIRT, FEEDS, RETAILERS, UNICODE_DECOR, VOCABULARY } from './vocabulary.ts';

export interface SampleOptions {
  /** Raw deal entries per day. */
  readonly rawDealsPerDay: number;
  readonly days: number;
  /** Last day generated (inclusive). */
  readonly endDate: string;
  readonly products: number;
  readonly seed: number;
}

/** Writes more files into a day's raw folder (staged, before it is compared and committed). */
export type RawExtras = (conn: DuckDBConnection, date: string, stagedRawDir: string) => Promise<void>;

export const DEFAULT_SAMPLE: Omit<SampleOptions, 'endDate'> = {
  rawDealsPerDay: 20_000,
  days: 7,
  products: 5_000,
  seed: 42,
};

export interface SampleResult {
  readonly products: number;
  readonly days: { date: string; rawDeals: number }[];
}

const list = (values: readonly string[]) => `[${values.map(sqlString).join(', ')}]`;

/**
 * Deterministic sample data, generated inside DuckDB (10M rows in seconds): a product catalog
 * and N days of raw deal feed entries with real-world dirt. A sidecar table per day
 * (raw/_truth) records which dirt each entry carries and the quarantine code it must get, so
 * tests can check the pipeline against ground truth rather than against itself.
 */
export async function generateSample(
  conn: DuckDBConnection,
  lake: Lake,
  options: SampleOptions,
  runId = 'sample',
  extras?: RawExtras,
): Promise<SampleResult> {
  assertDate(options.endDate);
  if (lake.remote)
    throw new UsageError(
      `sample data is generated into a local lake, not ${lake.root}`,
      'generate into a local folder (--lake ./lake) and copy it up, e.g. `aws s3 sync ./lake/raw s3://bucket/lake/raw`',
    );
  const seed = Math.trunc(options.seed);
  await conn.run(
    `CREATE OR REPLACE TEMP MACRO rnd(a, b, salt) AS (hash(a, b, salt, ${seed}) % 1000003) / 1000003.0`,
  );
  await conn.run(
    `CREATE OR REPLACE TEMP MACRO money(p) AS CASE WHEN p >= 1000 THEN format('{:d},{:06.2f}', CAST(floor(p / 1000) AS BIGINT), p - floor(p / 1000) * 1000) ELSE format('{:.2f}', p) END`,
  );
  await conn.run(
    `CREATE OR REPLACE TEMP MACRO slug(s) AS trim(regexp_replace(lower(s), '[^a-z0-9]+', '-', 'g'), '-')`,
  );
  let lo = 0;
  const cats = VOCABULARY.map((v) => {
    const row = `(${sqlString(v.category)}, ${lo}, ${lo + v.weight}, ${v.mu}, ${v.sigma}, ${list(v.brands)}, ${list(v.nouns)}, ${list(v.adjectives)})`;
    lo += v.weight;
    return row;
  });
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE vocab AS SELECT * FROM (VALUES ${cats.join(', ')}) v(category, lo, hi, mu, sigma, brands, nouns, adjs)`,
  );
  await conn.run(`CREATE OR REPLACE TEMP TABLE products_gen AS
    WITH base AS (
      SELECT i, rnd(i, 0, 'cat') * ${lo} AS u_cat, rnd(i, 1, 'brand') AS u_brand, rnd(i, 2, 'noun') AS u_noun, rnd(i, 3, 'adj') AS u_adj,
        (rnd(i, 4, 'p1') + rnd(i, 5, 'p2') + rnd(i, 6, 'p3') + rnd(i, 7, 'p4') - 2.0) / 0.57735 AS z, hash(i, ${seed}, 'model') AS hm
      FROM range(${Math.trunc(options.products)}) t(i)
    ), named AS (
      SELECT b.i, v.category,
        v.brands[1 + CAST(floor(b.u_brand * len(v.brands)) AS INTEGER)] AS brand,
        v.nouns[1 + CAST(floor(b.u_noun * len(v.nouns)) AS INTEGER)] AS noun,
        v.adjs[1 + CAST(floor(b.u_adj * len(v.adjs)) AS INTEGER)] AS adj,
        chr(CAST(65 + b.hm % 26 AS INTEGER)) || chr(CAST(65 + (b.hm // 26) % 26 AS INTEGER)) || '-' || CAST(100 + (b.hm // 676) % 9000 AS VARCHAR) AS model,
        least(greatest(exp(v.mu + v.sigma * b.z), 0.99), 4999.99) AS raw_price
      FROM base b JOIN vocab v ON b.u_cat >= v.lo AND b.u_cat < v.hi
    )
    SELECT 'P' || lpad(CAST(i AS VARCHAR), 7, '0') AS product_id,
      brand || ' ' || model || ' ' || adj || ' ' || noun AS title,
      brand, model, adj, noun,
      'The ' || brand || ' ' || model || ' is a ' || lower(adj) || ' ' || lower(noun) || ' from ' || brand || '. ' ||
        CASE i % 3 WHEN 0 THEN 'Backed by a 1-year limited warranty.' WHEN 1 THEN 'Customers rate it 4.6 out of 5.' ELSE 'Ships in retail packaging.' END AS description,
      category,
      CASE WHEN raw_price >= 10 THEN floor(raw_price) + 0.99 ELSE round(raw_price, 2) END AS price
    FROM named`);
  await writeParquet(
    conn,
    `SELECT ${sqlProjectionOf(Product, 'duckdb')} FROM products_gen ORDER BY product_id`,
    lake,
    runId,
    lake.partitionDir('products'),
    'products.parquet',
  );

  let dirtLo = 0;
  const dirtRows = DIRT.map((d) => {
    const row = `(${sqlString(d.kind)}, ${dirtLo}, ${dirtLo + d.share}, ${d.expected ? sqlString(d.expected) : 'NULL'})`;
    dirtLo += d.share;
    return row;
  });
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE dirt AS SELECT kind, CAST(lo AS DOUBLE) AS lo, CAST(hi AS DOUBLE) AS hi, CAST(expected AS VARCHAR) AS expected FROM (VALUES ${dirtRows.join(', ')}) v(kind, lo, hi, expected)`,
  );
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE feeds AS SELECT * FROM (VALUES ${FEEDS.map((f, i) => `(${i}, ${sqlString(f.name)}, ${sqlString(f.code)}, ${sqlString(f.hint)})`).join(', ')}) v(idx, name, code, hint)`,
  );
  await conn.run(
    'CREATE OR REPLACE TEMP TABLE products_idx AS SELECT row_number() OVER (ORDER BY product_id) - 1 AS idx, * FROM products_gen',
  );

  const days: SampleResult['days'] = [];
  const n = Math.trunc(options.rawDealsPerDay);
  const distinct = Math.max(1, Math.round(n / 1.3));
  for (let k = options.days - 1; k >= 0; k--) {
    const date = addDays(options.endDate, -k);
    const dayNo = Math.round(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
    await conn.run(`CREATE OR REPLACE TEMP TABLE raw_gen AS
      WITH rows AS (
        SELECT i, CAST(floor(i * ${distinct} / ${n}) AS BIGINT) AS j FROM range(${n}) t(i)
      ), ident AS (
        SELECT i, j,
          CASE WHEN rnd(j, ${dayNo}, 'carry') < 0.08 THEN ${dayNo - 1} ELSE ${dayNo} END AS id_day,
          CASE WHEN rnd(j, ${dayNo}, 'carry') < 0.08 THEN CAST(floor(rnd(j, ${dayNo}, 'carryj') * ${distinct}) AS BIGINT) ELSE j END AS id_j,
          rnd(i, ${dayNo}, 'dirt') AS u_dirt, rnd(i, ${dayNo}, 'feed') AS u_feed
        FROM rows
      ), picked AS (
        SELECT x.*, p.*, f.name AS feed, f.code AS feed_code, f.hint AS feed_hint,
          rnd(x.id_j, x.id_day, 'disc') AS u_disc, rnd(x.id_j, x.id_day, 'variant') AS u_var,
          (SELECT d.kind FROM dirt d WHERE x.u_dirt >= d.lo AND x.u_dirt < d.hi) AS dirt_kind
        FROM ident x
        JOIN products_idx p ON p.idx = CAST(floor(${options.products} * pow(rnd(x.id_j, x.id_day, 'prod'), 1.7)) AS BIGINT)
        JOIN feeds f ON f.idx = CAST(floor(x.u_feed * ${FEEDS.length}) AS INTEGER)
      ), priced AS (
        SELECT *,
          CASE WHEN price * (0.55 + 0.43 * u_disc) >= 10 THEN floor(price * (0.55 + 0.43 * u_disc)) + 0.99 ELSE round(price * (0.55 + 0.43 * u_disc), 2) END AS deal_price,
          CASE WHEN u_var < 0.15 THEN brand || ' ' || model || ' ' || noun
               WHEN u_var < 0.2 THEN 'Generic ' || noun || ' Bundle ' || CAST(id_j % 97 AS VARCHAR)
               ELSE title END AS shown_title,
          TIMESTAMP '${date} 00:00:00' + to_microseconds(CAST(floor(i * 86399000000.0 / ${n}) AS BIGINT)) AS seen_at,
          ${list(RETAILERS)}[1 + CAST(hash(id_j, id_day) % ${RETAILERS.length} AS INTEGER)] AS retailer,
          ${list(UNICODE_DECOR)}[1 + CAST(hash(i, ${dayNo}, 'uni') % ${UNICODE_DECOR.length} AS INTEGER)] AS decor
        FROM picked
      )
      SELECT
        substr(md5(feed || ':' || CAST(id_day AS VARCHAR) || ':' || CAST(id_j AS VARCHAR) || ':' || CAST(i AS VARCHAR) || ':${date}'), 1, 20) AS raw_id,
        feed,
        CASE dirt_kind
          WHEN 'truncated' THEN CASE WHEN i % 2 = 0 THEN NULL ELSE left(shown_title, 12) END
          WHEN 'missing_price' THEN shown_title
          WHEN 'price_in_title_only' THEN shown_title || ' for $' || money(deal_price) || ' + free shipping'
          WHEN 'from_price' THEN brand || ' ' || noun || 's from $' || money(floor(deal_price * 0.4) + 0.99)
          WHEN 'trade_in' THEN shown_title || ': up to $' || CAST(CAST(50 * (1 + hash(i) % 8) AS INTEGER) AS VARCHAR) || ' off w/ trade-in'
          WHEN 'store_sale' THEN retailer || ' Holiday Sale Event'
          WHEN 'unicode_title' THEN shown_title || decor || ' for $' || money(deal_price)
          ELSE shown_title || ' for $' || money(deal_price) || CASE WHEN i % 3 = 0 THEN ' + free shipping' ELSE '' END
        END AS title,
        CASE
          WHEN dirt_kind = 'truncated' THEN '&lt;p&gt;' || left(description, 20)
          WHEN dirt_kind = 'html_heavy' THEN '&lt;div class=&quot;deal&quot;&gt;&lt;p&gt;Now $' || money(deal_price) || ', down from $' || money(price) || '.&lt;/p&gt;&lt;ul&gt;&lt;li&gt;' || description || '&lt;/li&gt;&lt;li&gt;Sold by ' || retailer || ' &amp;amp; shipped free&lt;/li&gt;&lt;/ul&gt;&lt;/div&gt;'
          WHEN i % 4 = 0 THEN '<p>' || description || ' That&#39;s $' || money(price - deal_price) || ' off (was $' || money(price) || ').</p>'
          ELSE '&lt;p&gt;' || description || ' Buy it at ' || retailer || ' &amp;amp; save. Was $' || money(price) || '&lt;/p&gt;'
        END AS summary,
        CASE WHEN dirt_kind = 'truncated' AND i % 2 = 1 THEN NULL
          ELSE CASE WHEN i % 5 = 0 THEN 'http://dealnews.com' ELSE 'https://www.dealnews.com' END
            || '/products/' || slug(brand) || '/' || slug(model) || '/' || CAST(CAST(id_day AS BIGINT) * 10000000 + id_j AS VARCHAR) || '.html?iref=rss-' || feed_code
        END AS url,
        CASE dirt_kind
          WHEN 'missing_price' THEN NULL
          WHEN 'price_in_title_only' THEN NULL
          WHEN 'truncated' THEN NULL
          WHEN 'from_price' THEN 'from $' || money(floor(deal_price * 0.4) + 0.99)
          WHEN 'free' THEN 'Free'
          WHEN 'multibuy' THEN '2 for $' || money(deal_price * 2)
          WHEN 'discount' THEN '$' || CAST(CAST(ceil(price - deal_price) AS INTEGER) AS VARCHAR) || ' off'
          WHEN 'trade_in' THEN NULL
          WHEN 'store_sale' THEN NULL
          WHEN 'zero_price' THEN '$0.00'
          WHEN 'negative_price' THEN '-$' || money(deal_price)
          WHEN 'absurd_price' THEN '$999,999.99'
          WHEN 'unparseable_price' THEN CASE WHEN i % 2 = 0 THEN 'See store for price' ELSE 'Call for price' END
          ELSE '$' || money(deal_price)
        END AS price_text,
        retailer,
        CASE WHEN dirt_kind = 'store_sale' THEN 'Sale' ELSE 'Deal' END AS deal_type,
        feed_hint AS category_hint,
        CASE WHEN i % 31 = 0 THEN NULL ELSE seen_at - to_microseconds(CAST(hash(i, 'pub') % 10800000000 AS BIGINT)) END AS published_at,
        CASE WHEN dirt_kind = 'expired' THEN seen_at - to_microseconds(CAST(3600000000 + hash(i, 'exp') % 172800000000 AS BIGINT))
             WHEN i % 5 < 2 THEN NULL
             ELSE seen_at + to_microseconds(CAST(86400000000 + hash(i, 'exp') % 1209600000000 AS BIGINT)) END AS expires_at,
        seen_at,
        dirt_kind,
        (SELECT d.expected FROM dirt d WHERE d.kind = dirt_kind) AS expected_code
      FROM priced`);
    const rawDir = lake.partitionDir('raw_deals', date);
    await writeParquet(
      conn,
      `SELECT ${sqlProjectionOf(RawDeal, 'duckdb')} FROM raw_gen ORDER BY seen_at, raw_id`,
      lake,
      runId,
      rawDir,
      'sample-000.parquet',
      extras ? (staged) => extras(conn, date, staged) : undefined,
    );
    await writeParquet(
      conn,
      'SELECT raw_id, dirt_kind, expected_code FROM raw_gen ORDER BY raw_id',
      lake,
      runId,
      path.join(lake.root, 'raw', '_truth', `dt=${date}`),
      'truth.parquet',
    );
    days.push({ date, rawDeals: n });
  }
  await conn.run('DROP TABLE IF EXISTS raw_gen');
  return { products: options.products, days };
}

/**
 * Writes a query to `<finalDir>/<file>` through a staging folder, replacing the folder atomically,
 * unless the folder already holds exactly these bytes: then it is left untouched, so seeding the
 * same sample again changes no file (and no step fingerprint, which hashes input mtimes).
 */
async function writeParquet(
  conn: DuckDBConnection,
  sql: string,
  lake: Lake,
  runId: string,
  finalDir: string,
  file: string,
  extras?: (stagedDir: string) => Promise<void>,
): Promise<void> {
  const staging = path.join(lake.root, '_staging', runId, path.relative(lake.root, finalDir));
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  // Callers open DuckDB with preserve_insertion_order on, so ORDER BY fixes the file's row order.
  await conn.run(
    `COPY (${sql}) TO ${sqlString(path.join(staging, file))} (FORMAT parquet, COMPRESSION snappy)`,
  );
  await extras?.(staging);
  if (sameFolder(staging, finalDir)) rmSync(staging, { recursive: true, force: true });
  else lake.commit(runId, staging, finalDir);
}
