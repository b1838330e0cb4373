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


_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|obj|exc):`~?([^`]+)`")


class SphinxRoles(griffe.Extension):
    """Render the Sphinx roles some docstrings use (``:func:`jaxqep.x```) as inline code.

    mkdocstrings' Google parser does not know reStructuredText roles, which would otherwise
    appear literally (colons, role name and back-quotes) on the site.
    """

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None and ":`" in obj.docstring.value:
            obj.docstring.value = _ROLE.sub(r"`\1`", obj.docstring.value)


class RedundantAliasExports(griffe.Extension):
    """Treat ``from ._impl import name as name`` in a jaxqep namespace as an export.

    The project's package ``__init__`` files re-export their public names with redundant
    aliases (the PEP 484 convention) and mostly do not define ``__all__``; griffe documents
    only exported aliases. For a module of jaxqep without ``__all__``, every alias to an
    object inside jaxqep whose name is the target's own name is taken as exported.
    """

    def on_module(self, *, mod: griffe.Module, **kwargs) -> None:
        if not mod.path.startswith("jaxqep") or mod.exports is not None:
            return
        names = [
            name for name, member in mod.members.items()
            if member.is_alias and not name.startswith("_")
            and member.target_path.startswith("jaxqep.")
            and member.target_path.rsplit(".", 1)[-1] == name
        ]
        if names:
            mod.exports = names


def _is_equinox_module(cls: griffe.Class, seen: set | None = None) -> bool:
    seen = set() if seen is None else seen
    if cls.path in seen:
        return False
    seen.add(cls.path)
    for base in cls.bases:
        path = getattr(base, "canonical_path", str(base))
        if path in ("equinox.Module", "equinox._module.Module") or path.startswith("lineax."):
            return True
    try:
        return any(_is_equinox_module(b, seen) for b in cls.resolved_bases)
    except Exception:  # noqa: BLE001 - unresolvable base outside the package
        return False


def _fields(cls: griffe.Class) -> list[griffe.Attribute]:
    fields: dict[str, griffe.Attribute] = {}
    try:
        bases = list(reversed(cls.resolved_bases))
    except Exception:  # noqa: BLE001
        bases = []
    for base in bases:
        if isinstance(base, griffe.Class) and base.path.startswith("jaxqep"):
            fields.update({f.name: f for f in _fields(base)})
    for name, member in cls.members.items():
        if member.is_alias or not member.is_attribute or member.annotation is None:
            continue
        if "property" in member.labels or "class-attribute" in member.labels and \
                "instance-attribute" not in member.labels and member.value is None:
            continue
        if str(member.annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        fields[name] = member
    return list(fields.values())


class EquinoxModuleInit(griffe.Extension):
    """Give jaxqep's ``equinox.Module`` classes their dataclass ``__init__`` signature.

    Equinox modules are dataclasses, but griffe only synthesises ``__init__`` for the
    ``@dataclass`` decorator; without it, the ``Args:`` of a module's class docstring (its
    fields) would be checked against an empty signature.
    """

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        if pkg.path == "jaxqep":
            self._walk(pkg)

    def _walk(self, obj) -> None:
        for member in list(obj.members.values()):
            if member.is_alias:
                continue
            if member.is_module or member.is_class:
                self._walk(member)
            if member.is_class and "__init__" not in member.members \
                    and _is_equinox_module(member):
                params = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
                for f in _fields(member):
                    params.append(griffe.Parameter(
                        f.name, annotation=f.annotation, default=f.value,
                        kind=griffe.ParameterKind.positional_or_keyword))
                init = griffe.Function("__init__", parameters=griffe.Parameters(*params),
                                       lineno=member.lineno, endlineno=member.lineno)
                init.labels.add("dataclass-init")
                member.set_member("__init__", init)
