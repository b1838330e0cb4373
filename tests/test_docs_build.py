"""Bad input of the docs build: a tutorial that fails stops ``mkdocs build`` with its name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BROKEN = '''# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A tutorial whose physics broke

# %%
sigma = -1.0
assert sigma >= 0, "second law violated: sigma = -1"
'''


def test_a_failing_tutorial_stops_the_build_naming_it(tmp_path):
    examples = tmp_path / "examples"
    examples.mkdir()
    # The real tutorials' names as trivial stand-ins (the pages link to them), and a broken one.
    for t in sorted((ROOT / "examples").glob("tutorial_*.py")):
        (examples / t.name).write_text(BROKEN.replace("A tutorial whose physics broke", t.stem)
                                       .replace("sigma = -1.0", "sigma = 1.0"))
    (examples / "tutorial_broken_physics.py").write_text(BROKEN)
    env = dict(os.environ, JAXQEP_DOCS_EXAMPLES=str(examples), NO_MKDOCS_2_WARNING="1",
               MPLBACKEND="Agg")
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=280,
    )
    log = r.stdout + r.stderr
    assert r.returncode != 0, log[-3000:]
    assert "Error reading page 'tutorials/tutorial_broken_physics.py'" in log, log[-3000:]
    assert "second law violated: sigma = -1" in log, log[-3000:]
    assert not (tmp_path / "site" / "tutorials" / "tutorial_broken_physics").exists()
