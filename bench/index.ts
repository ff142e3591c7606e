/**
 * npm run bench -- <name> [options]: runs one benchmark of bench/<name>.ts (default: nightly):
 * nightly, engines, stream, migrate, cli. Shared helpers live in bench/support/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3));
const name = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'nightly';
const file = path.join(dir, `${name}.ts`);
if (!existsSync(file)) {
  console.error(`error[usage]: no benchmark "${name}"; available: ${available.join(', ')}`);
  process.exit(2);
}
const args = process.argv.slice(process.argv[2] === name ? 3 : 2);
const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
