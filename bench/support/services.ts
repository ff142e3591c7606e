/**
 * The real services a benchmark needs (Kafka, Spark, Chroma, OpenSearch), from the test harness
 * through its command line (`npm run services -- up …`), not its modules: benchmarks sit beside
 * the tests, not on top of them. Services started this way stay up for the next run; stop them
 * with `npm run services -- down`.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Starts (or reuses) the named services and returns their environment (KAFKA_BROKERS=…, …). */
export function servicesUp(names: readonly string[]): Record<string, string> {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'test', 'services', 'cli.ts'), 'up', ...names],
    { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  process.stderr.write('(services stay up for the next run: `npm run services -- down` stops them)\n');
  return env;
}
