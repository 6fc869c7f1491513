"""Random search, and the one way every discrete strategy draws a random unvisited cell.

:func:`sample_unvisited` draws candidate pool indices uniformly (uniform over the benchmark's
cells, i.e. over isomorphism classes in NAS-Bench-101) that are not in ``visited``.
:class:`RandomSearch` proposes one such cell per ``ask``: sampling without replacement from
``problem.candidates``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from arch2vec.search.base import SearchProblem, Strategy
from arch2vec.spaces.base import SearchSpace

_REJECTION_DRAWS = 32
"""Rejection draws per wanted cell before falling back to an exact draw from the unvisited set."""


def sample_unvisited(
    problem: SearchProblem, rng: np.random.Generator, visited: set[int], n: int = 1
) -> np.ndarray:
    """Up to ``n`` distinct candidate pool indices not in ``visited``, uniformly at random.

    Returns fewer (possibly none) only when fewer unvisited candidates are left. Draws by
    rejection while most candidates are unvisited, else exactly from the unvisited set.
    """
    candidates = np.asarray(problem.candidates, dtype=np.int64)
    out: list[int] = []
    if len(visited) < len(candidates) // 2:
        chosen: set[int] = set()
        for draw in rng.integers(len(candidates), size=_REJECTION_DRAWS * n).tolist():
            index = int(candidates[draw])
            if index not in visited and index not in chosen:
                chosen.add(index)
                out.append(index)
                if len(out) == n:
                    return np.asarray(out, dtype=np.int64)
    taken = visited.union(out)
    left = candidates[~np.isin(candidates, np.fromiter(taken, dtype=np.int64, count=len(taken)))]
    more = rng.choice(left, size=min(n - len(out), len(left)), replace=False)
    return np.asarray(out + [int(i) for i in more], dtype=np.int64)


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
