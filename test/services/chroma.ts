/**
 * ChromaDB for tests, from PyPI `chromadb` in the shared Python venv (python-env.ts).
 *
 * Both forms the prototype's users have:
 *  (a) a PersistentClient directory written by Python chromadb: writeChromaFixture()
 *      runs test/services/py/chroma_fixture.py (explicit embeddings, telemetry off);
 *  (b) a server: `chroma run --host 127.0.0.1 --port <p> --path <dir>` (the Rust
 *      server shipped in the chromadb wheel). service.start() runs one on an empty
 *      dir in ctx.runDir; startChromaServer() serves any directory, e.g. one from (a).
 *
 * Env handed to tests:
 *   CHROMA_URL        http://127.0.0.1:<port>
 *   CHROMA_PYTHON     <venv>/bin/python (import chromadb works)
 *   CHROMA_DATA_DIR   the server's persistence directory
 *
 * HTTP API (v2), tenant default_tenant, database default_database:
 *   GET  /api/v2/heartbeat                      {"nanosecond heartbeat": n}
 *   GET  /api/v2/version                        "1.0.0" (API version, not the package's)
 *   GET  /api/v2/tenants/{t}/databases/{d}/collections
 *   GET  /api/v2/tenants/{t}/databases/{d}/collections/{collection_id}/count
 *   POST /api/v2/tenants/{t}/databases/{d}/collections/{collection_id}/get
 *        {"ids"?, "where"?, "limit"?, "offset"?, "include": ["embeddings","metadatas","documents"]}
 *   POST .../collections/{collection_id}/query  {"query_embeddings": [[...]], "n_results": k, "include": [...]}
 * The full list is at GET /openapi.json.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  ensurePythonEnv,
  freeLoopbackPort,
  httpOk,
  PY_SCRIPTS_DIR,
  pythonPrerequisite,
  runCommand,
  spawnDetached,
  tail,
  waitFor,
} from './python-env.js';
import type { ServiceContext, ServiceDefinition, StartedService } from './types.js';

export const CHROMA_FIXTURE_SCRIPT: string = path.join(PY_SCRIPTS_DIR, 'chroma_fixture.py');

/** Environment for anything Chroma-related we start: no telemetry, no proxies for loopback. */
export function chromaProcessEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ANONYMIZED_TELEMETRY: 'False',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
}

export interface ChromaServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
}

/**
 * Starts `chroma run` on 127.0.0.1 over `dataDir` (detached, own process group) and
 * waits for /api/v2/heartbeat. The caller owns the pid (kill its process group).
 */
export async function startChromaServer(options: {
  chromaBin: string;
  dataDir: string;
  logFile: string;
  timeoutMs: number;
  port?: number;
}): Promise<ChromaServer> {
  await mkdir(options.dataDir, { recursive: true });
  const port = options.port ?? (await freeLoopbackPort());
  const url = `http://127.0.0.1:${port}`;
  const daemon = spawnDetached(
    options.chromaBin,
    ['run', '--host', '127.0.0.1', '--port', String(port), '--path', options.dataDir],
    { logFile: options.logFile, env: chromaProcessEnv() },
  );
  try {
    await waitFor(() => httpOk(`${url}/api/v2/heartbeat`), {
      timeoutMs: options.timeoutMs,
      intervalMs: 200,
      what: `chroma heartbeat at ${url}`,
      abortIf: () => daemon.exited(),
    });
  } catch (error) {
    try {
      process.kill(-daemon.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    throw new Error(`${(error as Error).message}\n--- ${options.logFile} ---\n${tail(options.logFile, 30)}`);
  }
  return { url, port, pid: daemon.pid };
}

export interface ChromaFixtureSummary {
  readonly chromadb: string;
  readonly collection: string;
  readonly collection_id: string;
  readonly count: number;
  readonly dim: number;
  /** Only for a --path fixture. */
  readonly layout?: {
    files: string[];
    tables: string[];
    row_counts: Record<string, number>;
    segments: { id: string; type: string; scope: string }[];
    hnsw: Record<
      string,
      { files: string[]; header_bytes: number; max_elements: number | null; cur_element_count: number | null }
    >;
  };
}

/** The fixture's record i, as chroma_fixture.py writes it. */
export function chromaFixtureRecord(
  i: number,
  dim: number,
): {
  id: string;
  document: string;
  metadata: { category: string; price: number };
  embedding: number[];
} {
  const categories = ['Electronics', 'Home', 'Toys', 'Automotive'];
  const category = categories[i % categories.length] as string;
  const price = Math.round((9.99 + i) * 100) / 100;
  return {
    id: `doc_${i}`,
    document: `Deal ${i}: ${category} item priced ${price}`,
    metadata: { category, price },
    embedding: Array.from({ length: dim }, (_, j) => ((i * 31 + j * 17) % 97) / 97),
  };
}

/**
 * Writes the deterministic fixture collection with Python chromadb, either into a
 * PersistentClient directory (`path`) or through a server (`url`).
 */
export async function writeChromaFixture(options: {
  python: string;
  path?: string;
  url?: string;
  collection?: string;
  count?: number;
  dim?: number;
  timeoutMs?: number;
}): Promise<ChromaFixtureSummary> {
  const args = [CHROMA_FIXTURE_SCRIPT];
  if (options.path) args.push('--path', options.path);
  else if (options.url) args.push('--url', options.url);
  else throw new Error('writeChromaFixture: give path or url');
  args.push(
    '--collection',
    options.collection ?? 'products',
    '--count',
    String(options.count ?? 10),
    '--dim',
    String(options.dim ?? 384),
  );
  const result = await runCommand(options.python, args, {
    timeoutMs: options.timeoutMs ?? 120_000,
    env: chromaProcessEnv(),
  });
  if (result.code !== 0) {
    throw new Error(
      `chroma_fixture.py failed (${result.error ?? `exit ${result.code}`}):\n${result.stderr.slice(-4000)}`,
    );
  }
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as ChromaFixtureSummary;
}

export const service: ServiceDefinition = {
  name: 'chroma',
  description:
    'ChromaDB server (`chroma run`, Rust server from the chromadb PyPI wheel, shared venv) on 127.0.0.1',
  startTimeoutMs: 60_000,
  provisionTimeoutMs: 20 * 60_000,

  checkPrerequisites: () => pythonPrerequisite(),

  async provision(ctx: ServiceContext): Promise<void> {
    await ensurePythonEnv(ctx, this.provisionTimeoutMs);
  },

  async start(ctx: ServiceContext): Promise<StartedService> {
    const started = Date.now();
    const venv = await ensurePythonEnv(ctx, this.provisionTimeoutMs);
    const dataDir = path.join(ctx.runDir, 'chroma-data');
    const server = await startChromaServer({
      chromaBin: venv.bin('chroma'),
      dataDir,
      logFile: ctx.logFile,
      timeoutMs: Math.max(5_000, this.startTimeoutMs - (Date.now() - started)),
    });
    ctx.log(`chroma ready at ${server.url} in ${Date.now() - started} ms`);
    return {
      pids: [server.pid],
      env: { CHROMA_URL: server.url, CHROMA_PYTHON: venv.python, CHROMA_DATA_DIR: dataDir },
    };
  },
};
