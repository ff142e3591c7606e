import type { DuckDBInstance } from '@duckdb/node-api';
import type { Config } from '../../core/config.ts';
import { loadJobSql } from '../../jobs/job.ts';
import { jobByName } from '../../jobs/registry.ts';
import { Deal, type DealRecord, QuarantineRecord, RawDeal, type RawDealRecord } from '../../schemas/index.ts';
import { ruleParams, SqlBatch } from './sql-batch.ts';

export interface RawInput {
  readonly raw: RawDealRecord;
  /** Position in the input (the Kafka offset), used as _source_row. */
  readonly offset: number;
}

export interface CleanupOutcome {
  /** Parsed deals, at most one per deal id, with the offset of the deal's first raw message in the batch. */
  readonly deals: { readonly deal: DealRecord; readonly firstOffset: number }[];
  /** Raw messages the rules rejected, with the quarantine code and message. */
  readonly rejects: {
    readonly rawId: string;
    readonly offset: number;
    readonly code: string;
    readonly message: string;
  }[];
  /** Valid raw messages dropped as duplicates (in the batch, or within the dedupe window without a price drop). */
  readonly duplicates: number;
  /** Deal id of every valid raw message (duplicates included), by raw_id. */
  readonly dealIdByRaw: ReadonlyMap<string, string>;
}

/**
 * The latest published event of deals within the dedupe window, by deal id: its seen-at and its
 * price (null when unknown: then no sighting can be a price drop); `rowsOf` gives the input
 * offsets (RawInput.offset) of a deal's valid rows in this batch.
 */
export type RecentLookup = (
  dealIds: readonly string[],
  rowsOf: (dealId: string) => readonly number[],
) => { deal_id: string; seen_at: string; price: number | null }[];

/**
 * The batch cleanup job's rules (jobs/sql/cleanup.sql: price parsing, validation, normalization,
 * the 24-hour dedupe) applied to a micro-batch of raw deals. Nothing is re-implemented here: the
 * job's own statements run on an in-memory `raw_deals` table, with `deals_prev` filled from the
 * stage's dedupe state for the deal ids of the batch.
 */
export class CleanupRules {
  private constructor(
    private readonly sql: SqlBatch,
    /** Prepared once: (deal_id, raw_id) of the valid rows (cleanup's `valid`), and the two outputs. */
    private readonly queries: {
      valid: () => Promise<Record<string, unknown>[]>;
      deals: () => Promise<Record<string, unknown>[]>;
      quarantine: () => Promise<Record<string, unknown>[]>;
    },
  ) {}

  static async open(instance: DuckDBInstance, config: Config, runDate: string): Promise<CleanupRules> {
    const job = jobByName('cleanup');
    const statements = loadJobSql(job);
    const deals = statements.find((s) => s.kind === 'output' && s.name === 'deals');
    const quarantine = statements.find((s) => s.kind === 'output' && s.name === 'quarantine');
    if (!deals || !quarantine) throw new Error('cleanup.sql lacks the deals/quarantine outputs');
    const sql = await SqlBatch.open(instance, ruleParams(config, runDate));
    // Inputs as tables refilled per batch; the job's statements as views over them, made once.
    await sql.createTable('raw_batch', RawDeal, { _source_row: 'BIGINT', _source_file: 'VARCHAR' });
    await sql.conn.run(
      // One source per batch, so the offset alone is the batch's unique row key (cleanup's _source_key).
      "CREATE OR REPLACE TEMP VIEW raw_deals AS SELECT b.*, b._source_row AS _source_key, getvariable('run_date') AS dt FROM raw_batch b",
    );
    await sql.createTable('deals_prev', Deal);
    let dealTable: string | undefined;
    for (const s of statements) {
      if (s.kind !== 'table' && s.kind !== 'view') continue;
      await sql.createView(s);
      const reads = /\bdeals_prev\b/.test(s.sql);
      if (reads) break;
      const cols = (await sql.rows(`DESCRIBE ${s.name}`)).map((r) => String(r.column_name));
      if (cols.includes('deal_id') && cols.includes('raw_id')) dealTable = s.name;
    }
    for (const s of statements) if (s.kind === 'table' || s.kind === 'view') await sql.createView(s);
    if (!dealTable)
      throw new Error('cleanup.sql: no statement before the dedupe join yields deal_id and raw_id');
    return new CleanupRules(sql, {
      valid: await sql.prepareQuery(`SELECT deal_id, raw_id FROM ${dealTable} WHERE deal_id IS NOT NULL`),
      deals: await sql.prepareRecords(Deal, sql.bind(deals.sql)),
      quarantine: await sql.prepareRecords(QuarantineRecord, sql.bind(quarantine.sql)),
    });
  }

  async run(inputs: readonly RawInput[], source: string, recent: RecentLookup): Promise<CleanupOutcome> {
    if (inputs.length === 0) return { deals: [], rejects: [], duplicates: 0, dealIdByRaw: new Map() };
    const offsetOf = new Map<string, number>();
    const rows = inputs.map(({ raw, offset }) => {
      offsetOf.set(raw.raw_id, offset);
      return {
        ...raw,
        published_at: iso(raw.published_at),
        expires_at: iso(raw.expires_at),
        seen_at: iso(raw.seen_at),
        _source_row: offset,
        _source_file: source,
      };
    });
    await this.sql.replaceRows('raw_batch', rows);
    // The dedupe join gets the window state of exactly this batch's deal ids.
    const valid = await this.queries.valid();
    const firstByDeal = new Map<string, number>();
    const rowsByDeal = new Map<string, number[]>();
    const dealIdByRaw = new Map<string, string>();
    for (const r of valid) {
      const id = String(r.deal_id);
      dealIdByRaw.set(String(r.raw_id), id);
      const off = offsetOf.get(String(r.raw_id)) ?? Number.MAX_SAFE_INTEGER;
      firstByDeal.set(id, Math.min(firstByDeal.get(id) ?? Number.MAX_SAFE_INTEGER, off));
      const rows = rowsByDeal.get(id) ?? [];
      rowsByDeal.set(id, rows);
      rows.push(off);
    }
    const prev =
      firstByDeal.size > 0 ? recent([...firstByDeal.keys()], (id) => rowsByDeal.get(id) ?? []) : [];
    await this.sql.replaceRows(
      'deals_prev',
      prev.map((p) => ({ deal_id: p.deal_id, seen_at: iso(p.seen_at), price: p.price })),
    );
    const deals = (await this.queries.deals()) as DealRecord[];
    const quarantine = await this.queries.quarantine();
    return {
      deals: deals.map((deal) => ({ deal, firstOffset: firstByDeal.get(deal.deal_id) ?? -1 })),
      rejects: quarantine.map((q) => ({
        rawId: String(q.record_id),
        offset: offsetOf.get(String(q.record_id)) ?? Number(q.source_row ?? -1),
        code: String(q.error_code),
        message: String(q.message),
      })),
      duplicates: Math.max(0, valid.length - deals.length),
      dealIdByRaw,
    };
  }

  close(): void {
    this.sql.close();
  }
}

const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function iso(v: string | null): string | null {
  if (v === null || v === undefined) return null;
  if (CANONICAL_ISO.test(v)) return v; // already what the conversion below would give
  const t = Date.parse(v);
  return Number.isNaN(t) ? v : new Date(t).toISOString();
}
