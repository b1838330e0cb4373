#!/usr/bin/env bash
# Set up (idempotent) and run the full test suite. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"
python3 -m pytest -q -p no:cacheprovider -n 2 --timeout=300 tests "$@"
