#!/usr/bin/env bash
# Set up (idempotent) and build the documentation site into site/, executing every tutorial:
#   bash scripts/docs.sh [extra mkdocs build options]
# Strict: any warning (a broken link, a missing reference, a docstring griffe cannot read)
# and any tutorial that raises or whose assertion fails stop the build with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[docs]"
export NO_MKDOCS_2_WARNING=1
unset MPLBACKEND   # the tutorial kernels must use the inline backend to show their plots
start=$(date +%s)
python3 -m mkdocs build --strict --clean --site-dir site "$@"
echo "docs: built site/ in $(( $(date +%s) - start )) s (mkdocs build --strict, tutorials executed)"
