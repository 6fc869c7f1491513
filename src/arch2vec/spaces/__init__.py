"""Search spaces: cells as labelled DAGs, hashing, enumeration and validity."""

from __future__ import annotations

import inspect
from pathlib import Path

from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import PAD, Cells, edit_distance
from arch2vec.spaces.darts import DartsSpace
from arch2vec.spaces.nb101 import NB101Space
from arch2vec.spaces.nb201 import NB201Space

SPACES: dict[str, type[SearchSpace]] = {
    "nb101": NB101Space,
    "nb201": NB201Space,
    "darts": DartsSpace,
}


def get(name: str, data_dir: str | Path | None = None, **options) -> SearchSpace:
    """The search space called ``name``; ``options`` go to spaces that take them (DARTS:
    ``samples``, ``seed``) and are ignored by the others."""
    try:
        cls = SPACES[name]
    except KeyError:
        raise ValueError(f"unknown space {name!r}; expected one of {', '.join(SPACES)}") from None
    accepted = inspect.signature(cls).parameters
    return cls(data_dir=data_dir, **{k: v for k, v in options.items() if k in accepted})


__all__ = ["PAD", "SPACES", "Cells", "SearchSpace", "edit_distance", "get"]
