"""Search spaces: cells as labelled DAGs, hashing, enumeration and validity.

``spaces.get(name)`` builds a registered space; ``spaces.register(name, cls)`` adds one (a
:class:`SearchSpace` subclass or any factory taking ``data_dir`` and the space's own options).
``spaces.example_spec(name)`` is the path of a spec file that ships with arch2vec (``cell6``,
``nb101``, ``nb201``: :mod:`arch2vec.spaces.shipped`); ``spaces.export_spec(name, path)`` copies
one.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import PAD, Cells, edit_distance
from arch2vec.spaces.registry import SPACES
from arch2vec.spaces.shipped import example_spec, example_specs, export_spec

register = SPACES.register


def options_of(name: str) -> tuple[str, ...] | None:
    """The options the registered space ``name`` takes (DARTS: ``samples``, ``seed``; the
    others: none), or None where its factory takes any keyword."""
    params = inspect.signature(SPACES[name]).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    return tuple(k for k, p in params.items() if k != "data_dir" and p.kind is not p.VAR_POSITIONAL)


def get(name: str, data_dir: str | Path | None = None, **options) -> SearchSpace:
    """The search space called ``name``, or described by the spec file ``name`` (``.toml`` or
    ``.json``; :mod:`arch2vec.spaces.spec`), or by ``options["spec"]`` (a spec as a dict).
    ``options`` are the space's own (DARTS: ``samples``, ``seed``; :func:`options_of`); one it
    does not take is refused, unless its value is None (not given)."""
    from arch2vec.spaces import spec

    if options.get("spec") is not None:
        _refuse("a spec", (), {k: v for k, v in options.items() if k != "spec"})
        return spec.SpecSpace(options["spec"], data_dir=data_dir)
    options.pop("spec", None)
    if isinstance(name, (str, Path)) and spec.looks_like_spec(str(name)):
        _refuse(f"the spec {name}", (), options)
        return spec.load_space(name, data_dir=data_dir)
    takes = options_of(name)
    if takes is not None:
        _refuse(f"space {name}", takes, options)
        options = {k: v for k, v in options.items() if k in takes}
    return SPACES[name](data_dir=data_dir, **options)


def _refuse(what: str, takes: tuple[str, ...], options: dict) -> None:
    for key, value in options.items():
        if key not in takes and value is not None:
            raise ValueError(
                f"{what} has no option {key!r} (it takes: {', '.join(takes) or 'no options'})"
            )


def names() -> list[str]:
    return SPACES.names()


__all__ = [
    "PAD",
    "SPACES",
    "Cells",
    "SearchSpace",
    "edit_distance",
    "example_spec",
    "example_specs",
    "export_spec",
    "get",
    "names",
    "options_of",
    "register",
]
