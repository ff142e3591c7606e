/**
 * moto server (PyPI `moto[server]`, shared Python venv) as the AWS endpoint for tests:
 * `moto_server -H 127.0.0.1 -p <port>` (moto 5.2: -H/--host, -p/--port, -r reload,
 * -s ssl, -c/-k cert/key; nothing else). All services on one port, in memory.
 *
 * Env handed to tests:
 *   AWS_ENDPOINT_URL       http://127.0.0.1:<port> (AWS SDK v3 and boto3 pick it up)
 *   AWS_ACCESS_KEY_ID      test
 *   AWS_SECRET_ACCESS_KEY  test
 *   AWS_REGION             us-east-1
 *   AWS_DEFAULT_REGION     us-east-1 (boto3/CLI spelling)
 * S3 clients need forcePathStyle: true (no DNS for bucket.127.0.0.1).
 *
 * Control API: GET /moto-api/data.json (state dump), POST /moto-api/reset (wipe all).
 */
import {
  ensurePythonEnv,
  freeLoopbackPort,
  httpOk,
  pythonPrerequisite,
  spawnDetached,
  tail,
  waitFor,
} from './python-env.js';
import type { ServiceContext, ServiceDefinition, StartedService } from './types.js';

export const service: ServiceDefinition = {
  name: 'moto',
  description: 'moto_server (moto[server] from PyPI, shared venv): S3, EMR, Glue, SageMaker… on 127.0.0.1',
  startTimeoutMs: 60_000,
  provisionTimeoutMs: 20 * 60_000,

  checkPrerequisites: () => pythonPrerequisite(),

  async provision(ctx: ServiceContext): Promise<void> {
    await ensurePythonEnv(ctx, this.provisionTimeoutMs);
  },

  async start(ctx: ServiceContext): Promise<StartedService> {
    const started = Date.now();
    const venv = await ensurePythonEnv(ctx, this.provisionTimeoutMs);
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    const daemon = spawnDetached(venv.bin('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
      logFile: ctx.logFile,
      cwd: ctx.runDir,
      env: { ...process.env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
    });
    try {
      await waitFor(() => httpOk(`${url}/moto-api/data.json`), {
        timeoutMs: Math.max(5_000, this.startTimeoutMs - (Date.now() - started)),
        intervalMs: 150,
        what: `moto_server at ${url}`,
        abortIf: () => daemon.exited(),
      });
    } catch (error) {
      try {
        process.kill(-daemon.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      throw new Error(`${(error as Error).message}\n--- ${ctx.logFile} ---\n${tail(ctx.logFile, 30)}`);
    }
    ctx.log(`moto ready at ${url} in ${Date.now() - started} ms`);
    return {
      pids: [daemon.pid],
      env: {
        AWS_ENDPOINT_URL: url,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
      },
    };
  },
};
