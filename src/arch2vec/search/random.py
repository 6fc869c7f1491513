"""Random search.

:class:`RandomSearch` proposes one such cell per ``ask``: sampling without replacement from
``problem.candidates``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from arch2vec.search.base import Strategy
from arch2vec.search.discrete import sample_unvisited
from arch2vec.spaces.base import SearchSpace


class RandomSearch(Strategy):
    """Uniformly random unvisited candidates, one per ``ask`` (none left: an empty array)."""

    name = "random"

    def __init__(self, space: SearchSpace | str, **common: Any) -> None:
        super().__init__(space, **common)  # embeddings, candidates, seed
        self.visited: set[int] = set()

    def ask(self) -> np.ndarray:
        proposal = sample_unvisited(self.problem, self.rng, self.visited, 1)
        self.visited.update(proposal.tolist())
        return proposal

    def tell(self, indices: np.ndarray, rewards: np.ndarray, fidelity: str | None = None) -> None:
        pass
