#!/usr/bin/env bash
# Set up (idempotent) and recompute the headline results of both seed papers:
#   bash scripts/reproduce.sh [--out DIR] [--quick]
# Writes data files, PNG plots and summary.md / summary.json into DIR (default reproduce_out).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[plot]"
exec jaxqep reproduce --out reproduce_out "$@"
