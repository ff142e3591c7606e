#!/usr/bin/env bash
# Makes a fresh clone runnable: installs node_modules exactly from package-lock.json when they are
# missing or stale. Called by `npm start`, `npm test` and `npm run bench`; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "bootstrap: installing npm dependencies (npm ci)…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi
