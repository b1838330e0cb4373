"""mkdocs hooks of the jaxqep site.

* Tutorials: every ``examples/tutorial_*.py`` (jupytext percent format) becomes the page
  ``tutorials/<name>/``; mkdocs-jupyter executes it during the build, so a tutorial that
  raises (or whose ``assert`` of a physical fact fails) stops the build, and mkdocs names
  the page (``Error reading page 'tutorials/tutorial_x.py'``).
* API reference: one page per public namespace of the package (``jaxqep`` itself and every
  non-underscore module or subpackage of ``jaxqep/``), each a mkdocstrings block
  ``::: jaxqep.<name>``; a namespace added to the package gets its page without editing
  anything here.
* Both lists are added to the navigation under "Tutorials" and "API reference".
"""

from __future__ import annotations

import ast
import logging
import os
import shutil
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.structure.nav import Section
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[1]
# JAXQEP_DOCS_EXAMPLES: another folder of tutorials (the tests build a broken one).
EXAMPLES = Path(os.environ.get("JAXQEP_DOCS_EXAMPLES", ROOT / "examples"))
PACKAGE = ROOT / "jaxqep"
log = logging.getLogger("mkdocs.hooks.jaxqep")


def tutorials() -> list[Path]:
    return sorted(EXAMPLES.glob("tutorial_*.py"))


def namespaces() -> list[str]:
    """``jaxqep`` and its public modules and subpackages, found on disk (no import)."""
    names = ["jaxqep"]
    for p in sorted(PACKAGE.iterdir()):
        if p.name.startswith("_"):
            continue
        if p.is_dir() and (p / "__init__.py").exists():
            names.append(f"jaxqep.{p.name}")
        elif p.suffix == ".py":
            names.append(f"jaxqep.{p.stem}")
    return names


def _summary(module: str) -> str:
    """First line of the module docstring (read with ast, without importing)."""
    rel = module.split(".")[1:]
    path = PACKAGE.joinpath(*rel)
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    if module == "jaxqep":
        path = PACKAGE / "__init__.py"
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _api_page(module: str) -> str:
    return f"# `{module}`\n\n::: {module}\n"


def _api_index() -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings of each public namespace (mkdocstrings). Every name a",
        "namespace exports is listed on its page with its signature, arguments, returns,",
        "raised errors and a runnable example.",
        "",
        "| namespace | what it holds |",
        "| --- | --- |",
    ]
    for m in namespaces():
        lines.append(f"| [`{m}`]({_api_uri(m).removeprefix('api/')}) | {_summary(m)} |")
    return "\n".join(lines) + "\n"


def _api_uri(module: str) -> str:
    return "api/" + ("index-jaxqep" if module == "jaxqep" else module.removeprefix("jaxqep.")) \
        + ".md"


@event_priority(100)  # before mkdocs-jupyter wraps the notebook files
def on_files(files, config):
    # A real file under a build folder, not File.generated: mkdocs-jupyter's wrapper reads
    # the source through src_dir, which a generated file lacks.
    staging = Path(tempfile.mkdtemp(prefix="jaxqep-docs-"))
    (staging / "tutorials").mkdir()
    for t in tutorials():
        shutil.copy(t, staging / "tutorials" / t.name)
        files.append(File(f"tutorials/{t.name}", src_dir=str(staging),
                          dest_dir=config.site_dir, use_directory_urls=config.use_directory_urls))
    files.append(File.generated(config, "api/index.md", content=_api_index()))
    for m in namespaces():
        files.append(File.generated(config, _api_uri(m), content=_api_page(m)))
    return files


def _title(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("# # "):
            return line[4:].strip()
    return path.stem


def _section(title, pages):
    section = Section(title, pages)
    for p in pages:
        p.parent = section
    return section


def on_nav(nav, config, files):
    def expand(items):
        out = []
        for item in items:
            if isinstance(item, Section):
                item.children = expand(item.children)
                out.append(item)
                continue
            url = getattr(item, "file", None) and item.file.src_uri
            if url == "tutorials/index.md":
                pages = [item] + [
                    Page(_title(t), files.get_file_from_path(f"tutorials/{t.name}"), config)
                    for t in tutorials()
                ]
                out.append(_section("Tutorials", pages))
            elif url == "api/index.md":
                pages = [item] + [
                    Page(m, files.get_file_from_path(_api_uri(m)), config) for m in namespaces()
                ]
                out.append(_section("API reference", pages))
            else:
                out.append(item)
        return out

    nav.items = expand(nav.items)
    # keep the flat page list (previous/next links) in step with the new sections
    flat = []

    def walk(items):
        for it in items:
            if isinstance(it, Section):
                walk(it.children)
            elif isinstance(it, Page):
                flat.append(it)

    walk(nav.items)
    nav.pages = flat
    for i, p in enumerate(flat):
        p.previous_page = flat[i - 1] if i else None
        p.next_page = flat[i + 1] if i + 1 < len(flat) else None
    return nav
