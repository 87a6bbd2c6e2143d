#!/usr/bin/env bash
# npm packages opnode needs (a real L1 node for integration tests and the devnet). Filled in with the L1 client work.
set -euo pipefail
