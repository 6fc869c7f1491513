"""Griffe extension for the API reference: the docstrings' reStructuredText bits, as Markdown.

The docstrings are free-form text written with Sphinx roles (``:class:`Cells```,
``:func:`~arch2vec.search.experiment.run```) and ``::`` before literal blocks. Before they are
parsed, each role becomes an optional cross-reference (a link where the object is in the API
reference, its name in code font where it is not; no warning either way), resolved from the
documented object's scope like a Python name; a trailing ``::`` becomes ``:``.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import griffe

_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|attr|data|mod|obj|exc|const):`(?P<tilde>~?)(?P<body>[^`]+)`"
)
_LITERAL = re.compile(r"(?m)(?<=\S)::$")


def _canonical(loader: griffe.GriffeLoader, path: str) -> str:
    try:
        found = loader.modules_collection.get_member(path)
    except (KeyError, ValueError):
        return path
    if found.is_alias:
        try:
            return found.final_target.path
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            return found.target_path
    return found.path


def _lazy(obj: griffe.Object, name: str) -> str | None:
    """``name`` among the lazily imported names of ``obj``'s module or a module above it
    (``_LAZY`` / ``_OBJECTS``: name -> ``"module:attribute"``, read by ``__getattr__``)."""
    scope: griffe.Object | None = obj.module
    while scope is not None:
        for table in ("_LAZY", "_OBJECTS"):
            member = scope.members.get(table)
            if member is None or member.is_alias or member.value is None:
                continue
            try:
                targets = ast.literal_eval(str(member.value))
            except (ValueError, SyntaxError):
                continue
            if isinstance(targets, dict) and isinstance(targets.get(name), str):
                return targets[name].replace(":", ".")
        scope = scope.parent
    return None


def _resolve(obj: griffe.Object, loader: griffe.GriffeLoader, target: str) -> str:
    target = target.lstrip(".")
    first, _, rest = target.partition(".")
    if first != obj.package.name:
        try:
            base = obj.resolve(first)
        except griffe.NameResolutionError:
            base = _lazy(obj, first)
            if base is None:
                return target
        target = f"{base}.{rest}" if rest else base
    return _canonical(loader, target)


def _convert(obj: griffe.Object, loader: griffe.GriffeLoader, text: str) -> str:
    def role(match: re.Match) -> str:
        body = match["body"].strip()
        shown, _, explicit = body.partition("<")
        if explicit:  # :class:`title <target>`
            target, shown = explicit.rstrip(">").strip(), shown.strip()
        else:
            target = body.lstrip("~")
            shown = target.lstrip(".").rsplit(".", 1)[-1] if match["tilde"] else target
        identifier = _resolve(obj, loader, target)
        return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'

    return _LITERAL.sub(":", _ROLE.sub(role, text))


class SphinxRoles(griffe.Extension):
    """Convert Sphinx roles and ``::`` in every docstring of a loaded package."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if obj.docstring is not None:
                obj.docstring.value = _convert(obj, loader, obj.docstring.value)
            stack.extend(member for member in obj.members.values() if not member.is_alias)
