"""griffe extension for the jaxqep site: the project's docstrings title their doctest
section ``Example:`` (singular, see the coding rules); griffe's Google parser knows only
``Examples:``. Without this, the example would render as a prose admonition instead of a
highlighted console session."""

from __future__ import annotations

import re

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class SingularExampleSection(griffe.Extension):
    """Read a docstring section titled ``Example:`` as griffe's ``Examples:``."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None and "Example:" in obj.docstring.value:
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
