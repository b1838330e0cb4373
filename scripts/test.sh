#!/usr/bin/env bash
# Set up (idempotent) and run the full test suite, the doctests of the package, then build the
# documentation site strictly (executing every tutorial). Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[test,docs]"
python3 -m pytest -q -p no:cacheprovider -n 2 --timeout=300 tests "$@"
python3 -m pytest -q -p no:cacheprovider --doctest-modules jaxqep
bash scripts/docs.sh
