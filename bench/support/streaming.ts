/**
 * A throwaway streaming environment on a given broker (temp lake, state folder, config file,
 * unique topic prefix), a catalog writer and a local webhook receiver: shared by bench/stream
 * and the streaming integration tests (which re-export them from their support module).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { clockFor } from '../../core/clock.ts';
import { type Config, type ConfigInput, loadConfig } from '../../core/config.ts';
import { addDays, Lake } from '../../core/lake.ts';
import { createLogger } from '../../core/logging.ts';
import { sqlString } from '../../jobs/sql-text.ts';
import { PriceTrend, Product, type RecordDef, type RecordOf } from '../../schemas/index.ts';
import { createStreamClient, type StreamClient } from '../../streaming/kafka/client.ts';
import { SqlBatch } from '../../streaming/rules/sql-batch.ts';
import { Topics } from '../../streaming/topics.ts';

export interface StreamEnv {
  readonly root: string;
  readonly lake: Lake;
  readonly config: Config;
  readonly configFile: string;
  readonly topics: Topics;
  readonly client: StreamClient;
  cleanup(): void;
}

/** DEALFINDER_NOW of this process (core/clock.ts), undefined for real time. */
const CLOCK_SETTING: string | undefined = process.env.DEALFINDER_NOW || undefined;

/** A temp lake + state folder + config file with a unique topic prefix on the test broker. */
export function streamEnv(brokers: string, streaming: NonNullable<ConfigInput['streaming']> = {}): StreamEnv {
  const root = mkdtempSync(path.join(tmpdir(), 'dealfinder-stream-'));
  const prefix = `t${randomUUID().slice(0, 8)}.`;
  const input: ConfigInput = {
    // The process's clock setting (DEALFINDER_NOW; the test suite shifts it): stages and fixtures agree.
    clock: { now: CLOCK_SETTING },
    lake: { root },
    duckdb: { memoryLimit: '512MB', threads: 1 },
    streaming: {
      brokers,
      topicPrefix: prefix,
      stateDir: path.join(root, '_streaming'),
      maxWaitMs: 50,
      retry: { attempts: 3, initialDelayMs: 50, maxDelayMs: 400 },
      // Fewer partitions keep the tests light on 2 cores; the defaults are checked by the topics test.
      topics: Object.fromEntries(
        ['raw', 'parsed', 'evaluated', 'opportunities', 'notifications'].map((k) => [k, { partitions: 3 }]),
      ),
      ...streaming,
    },
  };
  const configFile = path.join(root, 'dealfinder.config.json');
  writeFileSync(configFile, JSON.stringify(input, null, 2));
  const config = loadConfig({ file: configFile, env: {} });
  return {
    root,
    lake: new Lake(root),
    config,
    configFile,
    topics: Topics.of(config),
    client: createStreamClient({ brokers: [brokers], clientId: 'stream-test' }),
    cleanup: () => {
      // STREAM_TEST_KEEP=1 keeps the lake, state and child-process logs for a post-mortem.
      if (process.env.STREAM_TEST_KEEP) process.stderr.write(`kept ${root}\n`);
      else rmSync(root, { recursive: true, force: true });
    },
  };
}

export const quietLog = () => createLogger({}, process.env.STREAM_TEST_LOG ?? 'silent');

async function writeParquet<D extends RecordDef>(file: string, def: D, rows: RecordOf<D>[]): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const sql = await SqlBatch.open(db, {});
  try {
    await sql.loadRows('t', def, rows as Record<string, unknown>[]);
    await sql.conn.run(`COPY t TO ${sqlString(file)} (FORMAT parquet)`);
  } finally {
    sql.close();
    db.closeSync();
  }
}

export interface CatalogItem {
  readonly id: string;
  readonly title: string;
  readonly category: string;
  /** 30-day mean price in the trends partition. */
  readonly mean: number;
}

/** A products table and one price_trends partition (as of `asOf`) for the given items. */
export async function writeCatalog(
  lake: Lake,
  items: readonly CatalogItem[],
  asOf = addDays(clockFor(CLOCK_SETTING).todayUtc(), -1),
): Promise<void> {
  await writeParquet(
    path.join(lake.partitionDir('products'), 'part-00000.parquet'),
    Product,
    items.map((i) => ({
      product_id: i.id,
      title: i.title,
      description: i.title,
      category: i.category,
      price: i.mean,
    })),
  );
  await writeParquet(
    path.join(lake.partitionDir('price_trends', asOf), 'part-00000.parquet'),
    PriceTrend,
    items.map((i) => ({
      scope: 'product',
      scope_key: i.id,
      category: i.category,
      as_of: asOf,
      obs_7d: 3,
      mean_7d: i.mean,
      min_7d: i.mean,
      max_7d: i.mean,
      stddev_7d: 0,
      obs_30d: 10,
      mean_30d: i.mean,
      min_30d: i.mean * 0.9,
      max_30d: i.mean * 1.1,
      stddev_30d: 1,
      obs_90d: 30,
      mean_90d: i.mean,
      min_90d: i.mean * 0.8,
      max_90d: i.mean * 1.2,
      stddev_90d: 2,
      last_price: i.mean,
      last_seen_at: `${asOf}T12:00:00.000Z`,
      change_pct: 0,
      all_time_low: i.mean * 0.8,
      is_all_time_low: false,
      slope_30d: 0,
    })),
  );
}

export interface Received {
  readonly key: string;
  readonly body: Record<string, unknown>;
  readonly at: number;
}

/** A local HTTP receiver standing in for the webhook channel; can fail the first N requests. */
export async function webhookReceiver(options: { failFirst?: number; status?: number } = {}) {
  const received: Received[] = [];
  let failures = options.failFirst ?? 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failures > 0) {
        failures--;
        res.writeHead(options.status ?? 503);
        res.end();
        return;
      }
      received.push({
        key: String(req.headers['idempotency-key'] ?? ''),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        at: Date.now(),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
