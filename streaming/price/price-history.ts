import { statSync } from 'node:fs';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { Config } from '../../core/config.ts';
import { type Lake, TABLES } from '../../core/lake.ts';
import { inputSql } from '../../jobs/engines/duckdb.ts';
import { type JobStatement, loadJobSql } from '../../jobs/job.ts';
import type { PlannedInput } from '../../jobs/plan.ts';
import { jobByName } from '../../jobs/registry.ts';
import { Deal, type DealRecord, sqlTypeOf } from '../../schemas/index.ts';
import { ruleParams, SqlBatch } from '../rules/sql-batch.ts';
import type { PriceEstimate, PriceEstimator } from './estimator.ts';

/**
 * Prices a deal from its product's price history: the deal is matched to the catalog by the
 * enrichment job's own SQL (jobs/sql/enrichment.sql: exact title, then brand+model key), and the
 * reference price is the product's 30-day mean (90-day mean when the last 30 days are empty) in
 * the latest `price_trends` partition of the lake. A newer nightly partition is picked up within
 * `streaming.price.trendsReloadSeconds`.
 */
export class PriceHistoryEstimator implements PriceEstimator {
  readonly name = 'price_history';
  private loadedKey = '';
  private asOf: string | null = null;
  private lastCheck = 0;
  private query: (() => Promise<Record<string, unknown>[]>) | undefined;

  private constructor(
    private readonly sql: SqlBatch,
    private readonly lake: Lake,
    private readonly config: Config,
    private readonly statements: readonly JobStatement[],
  ) {}

  static async open(instance: DuckDBInstance, lake: Lake, config: Config, runDate: string) {
    const statements = loadJobSql(jobByName('enrichment'));
    const sql = await SqlBatch.open(instance, ruleParams(config, runDate));
    await sql.createTable('deals_in', Deal);
    await sql.conn.run(
      "CREATE OR REPLACE TEMP VIEW deals AS SELECT d.*, getvariable('run_date') AS dt FROM deals_in d",
    );
    const e = new PriceHistoryEstimator(sql, lake, config, statements);
    await e.reloadIfChanged(true);
    return e;
  }

  /** Date of the price_trends partition in use (null when the lake has none). */
  get trendsAsOf(): string | null {
    return this.asOf;
  }

  private partitionKey(): { key: string; date: string | null } {
    const date = this.lake.partitionDates('price_trends').at(-1) ?? null;
    const files = [
      ...(date ? this.lake.partitionFiles('price_trends', date) : []),
      ...this.lake.partitionFiles('products'),
    ];
    return { key: files.map((f) => `${f}:${statSync(f).mtimeMs}`).join('|'), date };
  }

  /** Loads the catalog and the newest trends partition when they changed since the last load. */
  async reloadIfChanged(force = false): Promise<boolean> {
    const now = Date.now();
    if (!force && now - this.lastCheck < this.config.streaming.price.trendsReloadSeconds * 1000) return false;
    this.lastCheck = now;
    const { key, date } = this.partitionKey();
    if (!force && key === this.loadedKey) return false;
    const input = (table: 'products' | 'price_trends', files: string[]): PlannedInput => ({
      view: table,
      table,
      files,
      partitioned: TABLES[table].partitioned,
      provenance: false,
      tablePath: TABLES[table].path,
      columns: Object.entries(TABLES[table].record.fields).map(([name, spec]) => ({
        name,
        duckdb: sqlTypeOf(spec, 'duckdb'),
        spark: sqlTypeOf(spec, 'spark'),
      })),
    });
    const conn = this.sql.conn;
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE products AS ${inputSql(input('products', this.lake.partitionFiles('products')))}`,
    );
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE trend_ref AS SELECT scope_key AS product_id, as_of, obs_30d, mean_30d, mean_90d,
         CASE WHEN obs_30d > 0 AND mean_30d IS NOT NULL THEN mean_30d ELSE mean_90d END AS reference
       FROM (${inputSql(input('price_trends', date ? this.lake.partitionFiles('price_trends', date) : []))}) t
       WHERE t.scope = 'product'`,
    );
    // Catalog-only statements (product keys) run once per load as tables; the per-deal ones are
    // views over the deals_in table, read through one query prepared per load.
    const dynamicNames = new Set<string>(['deals']);
    let output: JobStatement | undefined;
    for (const s of this.statements) {
      if (s.kind === 'output') {
        output = s;
        continue;
      }
      if (s.kind !== 'table' && s.kind !== 'view') continue;
      if ([...dynamicNames].some((n) => new RegExp(`\\b${n}\\b`).test(s.sql))) {
        dynamicNames.add(s.name);
        await this.sql.createView(s);
      } else {
        await this.sql.runStatement(s);
      }
    }
    if (!output) throw new Error('enrichment.sql has no @output statement');
    this.query = await this.sql.prepareQuery(
      `SELECT e.deal_id, e.product_id, e.match_confidence, t.reference, t.obs_30d, CAST(t.as_of AS VARCHAR) AS as_of
       FROM (${this.sql.bind(output.sql)}) e
       LEFT JOIN trend_ref t ON t.product_id = e.product_id`,
    );
    this.loadedKey = key;
    this.asOf = date;
    return true;
  }

  async estimate(deals: readonly DealRecord[]): Promise<Map<string, PriceEstimate>> {
    await this.reloadIfChanged();
    const out = new Map<string, PriceEstimate>();
    if (deals.length === 0) return out;
    await this.sql.replaceRows('deals_in', deals);
    const rows = await this.query!();
    const minConfidence = this.config.jobs.minMatchConfidence;
    for (const r of rows) {
      const matched = r.product_id !== null && Number(r.match_confidence) >= minConfidence;
      const reference = matched && r.reference !== null ? Number(r.reference) : null;
      out.set(String(r.deal_id), {
        estimate: reference,
        productId: matched ? String(r.product_id) : null,
        matchConfidence: r.match_confidence === null ? null : Number(r.match_confidence),
        detail: !matched
          ? 'no catalog match'
          : reference === null
            ? `product ${r.product_id}: no price history`
            : `product ${r.product_id}: ${Number(r.obs_30d) > 0 ? '30' : '90'}-day mean as of ${r.as_of}`,
      });
    }
    return out;
  }

  close(): void {
    this.sql.close();
  }
}
