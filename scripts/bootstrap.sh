#!/usr/bin/env bash
# Install everything zksolv needs into ./.venv and ./node_modules; idempotent.
# Sourced by scripts/demo.sh and scripts/test.sh (never needs anything installed by hand
# beyond python3 >= 3.10 with venv, node >= 18 and npm).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
command -v python3 >/dev/null || { echo "python3 not found — install Python 3.10+" >&2; exit 2; }
command -v node >/dev/null || { echo "node not found — install Node 18+ (e.g. apt-get install nodejs npm)" >&2; exit 2; }
command -v npm >/dev/null || { echo "npm not found — install npm" >&2; exit 2; }
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
PY=.venv/bin/python
STAMP=.venv/.zksolv-installed
HASH="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$HASH" ]; then
  # the checkout gets every role: the keeper base, the prover, plots, native verification,
  # the wasmtime witness, native Poseidon, Ray, the chain client and the test tools (see "Install" in README.md for the roles)
  "$PY" -m pip install --quiet --disable-pip-version-check -e '.[dev,prover,plots,keeper-native,fast,poseidon,ray,chain]'
  echo "$HASH" > "$STAMP"
fi
# npm ci of the pinned circom2/snarkjs/circomlib, skipped when the lock file is unchanged
"$PY" -c "from zksolv.toolchain import ensure_node_modules; ensure_node_modules()"
