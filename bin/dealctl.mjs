#!/usr/bin/env node
// Entry point of the dealctl CLI. Runs the compiled JavaScript in dist/ (built by
// scripts/bootstrap.sh, so `npm start`/`npm test` build it) when it matches the sources, which
// keeps start-up to Node's own plus the modules of the command being run. A checkout whose
// dist/ is missing or older than its sources runs the TypeScript through tsx instead (slower,
// never stale); `npm run build` brings dist/ up to date.
import { DIST, distIsCurrent } from './build-stamp.mjs';

if (process.env.DEALFINDER_CLI_FROM_SOURCE !== '1' && distIsCurrent()) {
  await import(`${DIST}/cli/run.js`);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/run.ts');
}
