#!/usr/bin/env bash
# npm packages opnode needs: anvil (a real L1 node for the integration tests, the bench and the devnet).
# Installed into the project-local .tools/ (gitignored); idempotent: does nothing when the pinned version is there.
set -euo pipefail
ANVIL_VERSION=1.7.1
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
anvil="$tools/node_modules/.bin/anvil"
if [ -x "$anvil" ] && "$anvil" --version 2>/dev/null | grep -q "Version: $ANVIL_VERSION"; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-npm-deps: npm is required (apt-get install nodejs npm)" >&2
  exit 1
fi
mkdir -p "$tools"
[ -f "$tools/package.json" ] || echo '{"name": "opnode-tools", "private": true}' > "$tools/package.json"
# The binary comes in the platform package (an optional dependency); the wrapper's postinstall script is not needed.
npm install --prefix "$tools" --no-audit --no-fund --ignore-scripts --save-exact "@foundry-rs/anvil@$ANVIL_VERSION" >/dev/null
"$anvil" --version | head -1
