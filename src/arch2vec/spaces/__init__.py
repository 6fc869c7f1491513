"""Search spaces: cells as labelled DAGs, hashing, enumeration and validity.

``spaces.get(name)`` builds a registered space; ``spaces.register(name, cls)`` adds one (a
:class:`SearchSpace` subclass or any factory taking ``data_dir`` and the space's own options).
"""

from __future__ import annotations

import inspect
from pathlib import Path

from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import PAD, Cells, edit_distance
from arch2vec.spaces.registry import SPACES

register = SPACES.register


def get(name: str, data_dir: str | Path | None = None, **options) -> SearchSpace:
    """The search space called ``name``, or described by the spec file ``name`` (``.toml`` or
    ``.json``; :mod:`arch2vec.spaces.spec`), or by ``options["spec"]`` (a spec as a dict);
    ``options`` go to spaces that take them (DARTS: ``samples``, ``seed``) and are ignored by the
    others."""
    from arch2vec.spaces import spec

    if options.get("spec") is not None:
        return spec.SpecSpace(options["spec"], data_dir=data_dir)
    if isinstance(name, (str, Path)) and spec.looks_like_spec(str(name)):
        return spec.load_space(name, data_dir=data_dir)
    factory = SPACES[name]
    accepted = inspect.signature(factory).parameters
    if any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        return factory(data_dir=data_dir, **options)
    return factory(data_dir=data_dir, **{k: v for k, v in options.items() if k in accepted})


def names() -> list[str]:
    return SPACES.names()


__all__ = ["PAD", "SPACES", "Cells", "SearchSpace", "edit_distance", "get", "names", "register"]
