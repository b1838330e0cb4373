#!/usr/bin/env bash
# Set up (idempotent) and run the full test suite, the doctests of the package, then build the
# documentation site strictly (executing every tutorial). Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[test,docs]"
# A test whose xdist worker process dies (XLA aborted once during a compilation, after ~20 min
# in a long-lived worker; the test passes on its own) is run once more on a fresh worker.
# Only crashes are rerun: the --only-rerun pattern matches no assertion or error message.
python3 -m pytest -q -p no:cacheprovider -n 2 --timeout=300 \
    --reruns 1 --only-rerun "crashed while running" tests "$@"
python3 -m pytest -q -p no:cacheprovider --doctest-modules jaxqep
bash scripts/docs.sh
