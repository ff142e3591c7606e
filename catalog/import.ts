import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Clock } from '../core/clock.ts';
import { DealFinderError, EXIT_CODES } from '../core/errors.ts';
import { parseJsonRecords } from '../core/json-records.ts';
import type { Lake } from '../core/lake.ts';
import { writeRecordsParquet } from '../ingest/raw-zone.ts';
import { sqlString } from '../jobs/sql-text.ts';
import { CATEGORIES, Product, type RecordOf, validate } from '../schemas/index.ts';

export type ProductRecord = RecordOf<typeof Product>;

/**
 * Which source column feeds which product field. Unset fields use the first column that exists
 * among the defaults, which read the prototype's item shape (title, description / features /
 * details, category, price) and common exports (id, asin, name, main_category) without flags.
 */
type ProductField = keyof typeof Product.fields;

/** Per product field, the source column (`description`: several, joined in order; lists and objects flattened). */
export type ColumnMapping = {
  readonly [F in ProductField]?: (F extends 'description' ? readonly string[] : string) | undefined;
};

const DEFAULTS: { readonly [F in ProductField]: readonly string[] } = {
  product_id: ['product_id', 'id', 'parent_asin', 'asin', 'sku'],
  title: ['title', 'name', 'product_title'],
  description: ['description', 'features', 'details'],
  category: ['category', 'main_category', 'product_category'],
  price: ['price', 'list_price'],
};

/** Stable reasons a catalog row is kept out of the products table. */
export type CatalogRejectReason =
  | 'missing_title'
  | 'missing_category'
  | 'unknown_category'
  | 'missing_price'
  | 'unparseable_price'
  | 'non_positive_price'
  | 'duplicate_product'
  | 'invalid_record';

export interface CatalogImportReport {
  /** The catalog version now in force (`unchanged`: the import equals the current version). */
  readonly version: string;
  readonly status: 'imported' | 'unchanged';
  readonly sources: readonly { file: string; rows: number }[];
  readonly rows: number;
  readonly imported: number;
  readonly rejected: number;
  readonly rejectedByReason: Partial<Record<CatalogRejectReason, number>>;
  /** Rejected rows with their reason and original record (JSON lines). */
  readonly rejectedFile: string | null;
  readonly versionDir: string;
}

/** A version's manifest.json: the import's report, with the content hash that makes re-imports no-ops. */
export type CatalogManifest = Omit<CatalogImportReport, 'status' | 'versionDir'> & {
  readonly contentHash: string;
  readonly importedAt: string;
};

export class CatalogImportError extends DealFinderError {
  constructor(message: string, hint: string, exitCode: number = EXIT_CODES.failure, cause?: unknown) {
    super('catalog-import-failed', message, { hint, exitCode, cause });
  }
}

export interface CatalogImportOptions {
  readonly lake: Lake;
  readonly clock: Clock;
  readonly mapping?: ColumnMapping;
  /** Category for rows that have none (a single-category file). */
  readonly defaultCategory?: string | undefined;
}

/**
 * Imports product catalog files (CSV/TSV, JSON lines or arrays, Parquet) into the lake's
 * `products` table: every row validated against the Product schema (a row that fails is kept in the
 * version's `rejected.jsonl` with its reason), ids stable across imports (the source's id column,
 * else a hash of title + category), then committed atomically as a new version. Each version
 * stays under `catalog/versions/<version>/` with its manifest; the table holds the latest, which
 * is what the nightly and the stream read. Importing the same content again changes nothing.
 */
export async function importCatalog(
  conn: DuckDBConnection,
  files: readonly string[],
  options: CatalogImportOptions,
): Promise<CatalogImportReport> {
  const { lake } = options;
  if (lake.remote)
    throw new CatalogImportError(
      `catalog import writes a local lake; ${lake.root} is remote`,
      'import into a local lake, then sync it',
    );
  if (files.length === 0)
    throw new CatalogImportError('no catalog file given', 'dealctl catalog import FILE…', EXIT_CODES.usage);

  const sources: { file: string; rows: number }[] = [];
  const accepted: ProductRecord[] = [];
  const rejected: {
    reason: CatalogRejectReason;
    message: string;
    source: string;
    row: number;
    record: unknown;
  }[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const rows = await readRows(conn, file);
    sources.push({ file, rows: rows.length });
    const columns = new Set(rows.flatMap((r) => Object.keys(r)));
    const pick = resolveMapping(columns, options.mapping ?? {}, file);
    for (const [i, row] of rows.entries()) {
      const mapped = mapRow(row, pick, options.defaultCategory);
      const reject = (reason: CatalogRejectReason, message: string) => {
        rejected.push({ reason, message, source: file, row: i + 1, record: row });
      };
      if ('reason' in mapped) {
        reject(mapped.reason, mapped.message);
        continue;
      }
      if (seen.has(mapped.product.product_id)) {
        reject('duplicate_product', `product_id ${mapped.product.product_id} appears earlier in this import`);
        continue;
      }
      const v = validate(Product, mapped.product);
      if (!v.ok) {
        reject('invalid_record', v.issues.map((x) => `${x.path}: ${x.message}`).join('; '));
        continue;
      }
      seen.add(mapped.product.product_id);
      accepted.push(v.value);
    }
  }
  if (accepted.length === 0)
    throw new CatalogImportError(
      `no valid product in ${files.join(', ')} (${rejected.length} row(s) rejected${rejected[0] ? `, e.g. row ${rejected[0].row}: ${rejected[0].message}` : ''})`,
      'check the column mapping (--title-column, --price-column, --category-column, …); the current catalog is unchanged',
      EXIT_CODES.input,
    );

  accepted.sort((a, b) => a.product_id.localeCompare(b.product_id));
  const contentHash = createHash('sha256')
    .update(accepted.map((p) => JSON.stringify(p)).join('\n'))
    .digest('hex');
  const versionsDir = path.join(lake.root, 'catalog', 'versions');
  const current = catalogVersions(lake).at(-1);
  const byReason: Partial<Record<CatalogRejectReason, number>> = {};
  for (const r of rejected) byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
  const summary = {
    sources,
    rows: accepted.length + rejected.length,
    imported: accepted.length,
    rejected: rejected.length,
    rejectedByReason: byReason,
  };
  if (current && current.manifest.contentHash === contentHash && existsSync(lake.partitionDir('products')))
    return {
      ...summary,
      version: current.version,
      status: 'unchanged',
      rejectedFile: current.manifest.rejectedFile,
      versionDir: path.join(versionsDir, current.version),
    };

  const stamp = options.clock
    .now()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const version = `${stamp}-${contentHash.slice(0, 8)}`;
  const versionDir = path.join(versionsDir, version);
  const building = `${versionDir}.tmp`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const productsFile = path.join(building, 'products.parquet');
  await writeRecordsParquet(conn, Product, accepted, productsFile, 'product_id');
  let rejectedFile: string | null = null;
  if (rejected.length > 0) {
    writeFileSync(
      path.join(building, 'rejected.jsonl'),
      `${rejected.map((r) => JSON.stringify(r)).join('\n')}\n`,
    );
    rejectedFile = path.join(versionDir, 'rejected.jsonl');
  }
  const manifest: CatalogManifest = {
    version,
    contentHash,
    importedAt: options.clock.now().toISOString(),
    ...summary,
    rejectedFile,
  };
  writeFileSync(path.join(building, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(building, versionDir);

  // The table's folder is swapped whole (staging → commit), so readers see the old or the new version.
  const runId = `catalog-${version}`;
  const staging = lake.stagingDir(runId, 'products');
  mkdirSync(staging, { recursive: true });
  copyFileSync(path.join(versionDir, 'products.parquet'), path.join(staging, 'products.parquet'));
  lake.commit(runId, staging, lake.partitionDir('products'));
  lake.finish(runId);
  return { ...summary, version, status: 'imported', rejectedFile, versionDir };
}

/** Versions imported so far, oldest first (names sort by import time). */
export function catalogVersions(lake: Lake): { version: string; manifest: CatalogManifest }[] {
  const dir = path.join(lake.root, 'catalog', 'versions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.endsWith('.tmp') && existsSync(path.join(dir, n, 'manifest.json')))
    .sort()
    .map((version) => ({
      version,
      manifest: JSON.parse(readFileSync(path.join(dir, version, 'manifest.json'), 'utf8')) as CatalogManifest,
    }));
}

async function readRows(conn: DuckDBConnection, file: string): Promise<Record<string, unknown>[]> {
  if (!existsSync(file))
    throw new CatalogImportError(
      `catalog file ${file} does not exist`,
      'give the path of a CSV, JSON lines or Parquet file',
      EXIT_CODES.input,
    );
  const ext = path.extname(file).toLowerCase();
  const src = sqlString(file);
  const reader =
    ext === '.csv' || ext === '.tsv'
      ? // Every column as text: the import parses prices itself and reports what it cannot read.
        `read_csv(${src}, header = true, all_varchar = true${ext === '.tsv' ? ", delim = '\\t'" : ''})`
      : ext === '.parquet'
        ? `read_parquet(${src})`
        : null;
  if (ext === '.json' || ext === '.jsonl' || ext === '.ndjson') {
    // Parsed here, not by DuckDB: its inference turns a column of mixed types into JSON text.
    const parsed = parseJsonRecords(readFileSync(file, 'utf8'));
    if (!parsed.ok)
      throw new CatalogImportError(
        `${file}: ${parsed.error}`,
        'check the file (truncated? another format?)',
        EXIT_CODES.input,
      );
    return parsed.records.map((r, i) => {
      if (typeof r !== 'object' || r === null || Array.isArray(r))
        throw new CatalogImportError(
          `${file}: record ${i + 1} is not a JSON object`,
          'one product object per line, or an array of them',
          EXIT_CODES.input,
        );
      return r as Record<string, unknown>;
    });
  }
  if (!reader)
    throw new CatalogImportError(
      `${file}: unknown catalog format "${ext || '(none)'}"`,
      'catalog files are .csv, .tsv, .json, .jsonl, .ndjson or .parquet',
      EXIT_CODES.usage,
    );
  try {
    return (await conn.runAndReadAll(`SELECT * FROM ${reader}`)).getRowObjectsJson() as Record<
      string,
      unknown
    >[];
  } catch (error) {
    throw new CatalogImportError(
      `${file}: not readable as ${ext.slice(1)}: ${(error as Error).message.split('\n')[0]}`,
      'check the file (truncated? another format?)',
      EXIT_CODES.input,
      error,
    );
  }
}

type ResolvedMapping = { [F in ProductField]: F extends 'description' ? string[] : string | null };

function resolveMapping(columns: Set<string>, m: ColumnMapping, file: string): ResolvedMapping {
  const given = (name: string | undefined, flag: string): string | undefined => {
    if (name !== undefined && !columns.has(name))
      throw new CatalogImportError(
        `${file} has no column "${name}" (${flag})`,
        `its columns are: ${[...columns].join(', ')}`,
        EXIT_CODES.usage,
      );
    return name;
  };
  const first = (names: readonly string[]) => names.find((n) => columns.has(n)) ?? null;
  for (const d of m.description ?? []) given(d, '--description-column');
  return {
    product_id: given(m.product_id, '--id-column') ?? first(DEFAULTS.product_id),
    title: given(m.title, '--title-column') ?? first(DEFAULTS.title),
    description: m.description?.length
      ? [...m.description]
      : DEFAULTS.description.filter((n) => columns.has(n)),
    category: given(m.category, '--category-column') ?? first(DEFAULTS.category),
    price: given(m.price, '--price-column') ?? first(DEFAULTS.price),
  };
}

/** Text of a cell: strings trimmed, lists and objects flattened ("k: v"), blanks null. */
function textOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v))
    return textOf(
      v
        .map(textOf)
        .filter((s) => s !== null)
        .join(' '),
    );
  if (typeof v === 'object')
    return textOf(
      Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => (textOf(x) === null ? null : `${k}: ${textOf(x)}`))
        .filter((s) => s !== null)
        .join('; '),
    );
  const s = String(v).replace(/\s+/g, ' ').trim();
  return s === '' ? null : s;
}

/** "$1,299.99", "1299.99", 1299.99 → 1299.99; "-$5" → -5; anything else → NaN. */
export function parseCatalogPrice(v: unknown): number {
  if (typeof v === 'number') return v;
  const s = textOf(v);
  if (s === null) return Number.NaN;
  const m = /^(-)?\s*(?:US)?\$?\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]+)?$/i.exec(s);
  return m ? Number(`${m[1] ?? ''}${m[2]!.replace(/,/g, '')}${m[3] ?? ''}`) : Number.NaN;
}

const CATEGORY_BY_KEY = new Map<string, string>(
  CATEGORIES.map((c) => [c.toLowerCase().replace(/[^a-z]/g, ''), c]),
);

function mapRow(
  row: Record<string, unknown>,
  m: ResolvedMapping,
  defaultCategory: string | undefined,
): { product: ProductRecord } | { reason: CatalogRejectReason; message: string } {
  const title = m.title ? textOf(row[m.title]) : null;
  if (!title) return { reason: 'missing_title', message: `no title (column ${m.title ?? 'none found'})` };
  const rawCategory = (m.category ? textOf(row[m.category]) : null) ?? defaultCategory ?? null;
  if (!rawCategory)
    return { reason: 'missing_category', message: `no category (column ${m.category ?? 'none found'})` };
  // "Cell Phones & Accessories", "cell_phones_and_accessories" → the catalog's own spelling.
  const category = CATEGORY_BY_KEY.get(
    rawCategory
      .toLowerCase()
      .replace(/&/g, 'and')
      .replace(/[^a-z]/g, ''),
  );
  if (!category)
    return {
      reason: 'unknown_category',
      message: `category "${rawCategory}" is not one of ${CATEGORIES.join(', ')}`,
    };
  const rawPrice = m.price ? row[m.price] : undefined;
  if (rawPrice === undefined || rawPrice === null || textOf(rawPrice) === null)
    return { reason: 'missing_price', message: `no price (column ${m.price ?? 'none found'})` };
  const price = parseCatalogPrice(rawPrice);
  if (Number.isNaN(price))
    return { reason: 'unparseable_price', message: `cannot read a price from "${textOf(rawPrice)}"` };
  if (!(price > 0)) return { reason: 'non_positive_price', message: `price ${price} is not above zero` };
  const description =
    m.description
      .map((c) => textOf(row[c]))
      .filter((s) => s !== null)
      .join(' ') || title;
  const sourceId = m.product_id ? textOf(row[m.product_id]) : null;
  // Without an id column, the id follows what identifies the product, so a re-import keeps it.
  const productId =
    sourceId ??
    `p-${createHash('sha256').update(`${title.toLowerCase()}\u0000${category}`).digest('hex').slice(0, 16)}`;
  return {
    product: {
      product_id: productId,
      title,
      description,
      category: category as ProductRecord['category'],
      price,
    },
  };
}
