"""The interface every search space implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec.spaces.cells import Cells


class SearchSpace(ABC):
    """A search space: a node count, an op vocabulary and the cells it contains.

    ``all()`` is the space's pool in its canonical order (a cell's position there is its *pool
    index*); ``hash`` gives each cell a 32-hex id, equal for cells the space treats as the same.
    """

    name: str
    num_nodes: int
    ops: tuple[str, ...]
    padded: bool = False
    """True where cells may have padding nodes (op ``PAD``): the models then decode "no node"."""
    native_key: str | None = None
    """Name of the space's native cell description in exports (``arch_str``, ``genotype``)."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = data_dir

    @abstractmethod
    def all(self) -> Cells:
        """Every cell of the space (or its sampled pool) in canonical order."""

    @abstractmethod
    def is_valid(self, cells: Cells) -> np.ndarray:
        """``(B,)`` bool: each cell is a member of the space."""

    @abstractmethod
    def hash(self, cells: Cells) -> np.ndarray:
        """``(B,)`` array of 32-hex strings (``''`` for an invalid cell)."""

    def hashes(self) -> np.ndarray:
        """Hashes of ``all()``, aligned with pool indices."""
        return self.hash(self.all())

    def locate(self, text: str) -> int:
        """Pool index of a cell named by its pool index, 32-hex hash or native form."""
        text = text.strip()
        if text.isdigit():
            index = int(text)
            if index >= len(self.all()):
                raise ValueError(f"{self.name}: index {index} is past the last cell")
            return index
        if len(text) == 32 and all(c in "0123456789abcdef" for c in text):
            found = np.flatnonzero(self.hashes() == text)
            if len(found) == 0:
                raise ValueError(f"{self.name}: no cell has hash {text}")
            return int(found[0])
        return self._locate_native(text)

    def _locate_native(self, text: str) -> int:
        raise ValueError(f"{self.name}: {text!r} is neither a pool index nor a 32-hex hash")

    def to_native(self, cells: Cells) -> list[Any]:
        """The space's own description of each cell (arch string, genotype, ...), if it has one."""
        raise NotImplementedError(f"{self.name} has no native cell format")

    def from_native(self, items: list[Any]) -> Cells:
        raise NotImplementedError(f"{self.name} has no native cell format")

    def sample(self, n: int, seed: int = 0) -> Cells:
        """``n`` distinct cells of the pool, drawn uniformly with ``seed``."""
        pool = self.all()
        if not 0 <= n <= len(pool):
            raise ValueError(f"sample: n must be between 0 and {len(pool)}, got {n}")
        rng = np.random.default_rng(seed)
        return pool[np.sort(rng.choice(len(pool), size=n, replace=False))]

    def info(self) -> dict[str, Any]:
        """Summary for ``arch2vec space info``."""
        pool = self.all()
        return {
            "space": self.name,
            "num_cells": len(pool),
            "num_nodes": self.num_nodes,
            "ops": list(self.ops),
            "mean_edges": round(float(pool.num_edges().mean()), 4) if len(pool) else 0.0,
        }

    def onehot(self, cells: Cells) -> np.ndarray:
        """Model input: ``(B, N, K)`` one-hot ops over this space's vocabulary."""
        return cells.onehot(len(self.ops))
