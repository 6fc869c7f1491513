"""Regularized (aging) evolution over the discrete cell encoding and its one-edit mutation
(:mod:`arch2vec.search.discrete`).

**Regularized evolution** (Real et al., 2019): the first ``population`` proposals are random
unvisited candidates; afterwards each proposal mutates the best of ``sample`` members drawn
uniformly from the population, and every told cell joins the population while the oldest leaves.
A mutant that is not a candidate or was already proposed is re-drawn from the same parent, up
to ``max_tries`` mutants; then a random unvisited candidate is proposed instead. No cell is
proposed twice.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from arch2vec.search.base import Range, Strategy
from arch2vec.search.discrete import (
    LOOKUP_CHUNK,
    CellEncoding,
    first_new,
    mutate,
    record_proposal,
)
from arch2vec.spaces.base import SearchSpace


class RegularizedEvolution(Strategy):
    """Aging evolution over the discrete encoding (see the module docstring)."""

    name = "evolution"
    random_start = "population"
    ranges = {
        "population": Range(int, 2, 10**6),
        "sample": Range(int, 1, 10**6),
        "max_tries": Range(int, 1, 10**6),
    }

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        population: int = 50,
        sample: int = 10,
        max_tries: int = 100,
        **common: Any,
    ) -> None:
        super().__init__(space, **common)  # embeddings, candidates, seed
        if population < 1 or not 1 <= sample <= population or max_tries < 1:
            raise ValueError(
                "evolution: need population >= 1, 1 <= sample <= population and max_tries >= 1"
            )
        self.population_size = int(population)
        self.sample_size = int(sample)
        self.max_tries = int(max_tries)
        self.encoding = CellEncoding.of(self.problem)
        self.population: deque[tuple[int, float]] = deque()
        self.visited: set[int] = set()
        self.codes: dict[int, np.ndarray] = {}

    def ask(self) -> np.ndarray:
        index, codes = -1, None
        if len(self.visited) >= self.population_size and self.population:
            members = self.rng.choice(
                len(self.population),
                size=min(self.sample_size, len(self.population)),
                replace=False,
            )
            parent = max(members.tolist(), key=lambda m: self.population[m][1])
            parent_codes = self.codes[self.population[parent][0]]
            for start in range(0, self.max_tries, LOOKUP_CHUNK):
                count = min(LOOKUP_CHUNK, self.max_tries - start)
                mutants = mutate(self.encoding, parent_codes, self.rng, count)
                row, indices = first_new(self.encoding, mutants, self.visited)
                if row >= 0:
                    index, codes = int(indices[row]), mutants[row]
                    break
        return record_proposal(self, index, codes)

    def tell(self, indices: np.ndarray, rewards: np.ndarray, fidelity: str | None = None) -> None:
        for index, reward in zip(
            np.asarray(indices).tolist(), np.asarray(rewards).tolist(), strict=True
        ):
            if index not in self.codes or not math.isfinite(reward):
                continue  # a failed evaluation (NaN) never joins the population
            self.population.append((int(index), float(reward)))
            if len(self.population) > self.population_size:
                self.population.popleft()
