#!/usr/bin/env bash
# Makes a fresh clone runnable: installs node_modules exactly from package-lock.json when they are
# missing or stale, and compiles the CLI to dist/ when its sources changed (scripts/build.mjs).
# Called by `npm start`, `npm test`, `npm run bench` and `npm run dealctl`; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "bootstrap: installing npm dependencies (npm ci)…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi
node scripts/build.mjs
