#!/usr/bin/env bash
# The main job: demo market -> account commitment -> setup -> prove -> verify, with timings.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
exec .venv/bin/zksolv demo "$@"
