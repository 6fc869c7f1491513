"""The search interface: strategies propose pool indices, the runner looks them up and tells them.

A :class:`Strategy` sees a :class:`SearchProblem` — the candidate pool indices, optional
features (embeddings) of every cell, the cells themselves and a hash -> pool index map for
strategies that edit cells — and a ``numpy.random.Generator``. It never sees test accuracies:
the runner (:func:`run`) owns the benchmark and the budget, calls ``ask()`` for pool indices,
charges their cost and calls ``tell()`` with their search rewards.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arch2vec.benchmarks.base import Benchmark, Budget, BudgetExhausted
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import Cells


@dataclass(eq=False)
class SearchProblem:
    """What a strategy may know: the space, its candidate cells and their features."""

    space: SearchSpace
    cells: Cells  # every cell of the space, by pool index
    candidates: np.ndarray  # pool indices a strategy may propose (cells the benchmark covers)
    features: np.ndarray | None = None  # (num_cells, d) embeddings by pool index, if any
    fidelities: dict[str, np.ndarray] = field(default_factory=dict)  # name -> cost share
    _hash_index: dict[str, int] | None = None

    def index_of_cells(self, cells: Cells) -> np.ndarray:
        """Pool index of each cell (matched by hash, so isomorphic cells match); -1 if absent
        or not a candidate."""
        if self._hash_index is None:
            hashes = self.space.hashes()
            self._hash_index = {str(hashes[i]): int(i) for i in self.candidates}
        found = [self._hash_index.get(str(h), -1) for h in self.space.hash(cells)]
        return np.asarray(found, dtype=np.int64)


class Strategy(ABC):
    """Propose cells (``ask``), learn from their rewards (``tell``)."""

    name: str = "strategy"
    needs_features: bool = False
    hyper_names: frozenset[str] | None = None  # accepted hyper-parameters (None: not checked)

    def __init__(self, problem: SearchProblem, rng: np.random.Generator, **hyper: Any) -> None:
        if self.hyper_names is not None:
            unknown = set(hyper) - self.hyper_names
            if unknown:
                raise ValueError(f"{self.name}: unknown hyper-parameter(s) {sorted(unknown)}")
        if self.needs_features and problem.features is None:
            raise ValueError(f"{self.name} needs features (embeddings) of the cells")
        self.problem = problem
        self.rng = rng
        self.hyper = hyper

    @abstractmethod
    def ask(self) -> np.ndarray:
        """Pool indices to evaluate next (one or a batch)."""

    @abstractmethod
    def tell(self, indices: np.ndarray, rewards: np.ndarray) -> None:
        """Search rewards (percent) of the cells just evaluated."""


@dataclass
class Trace:
    """One run: per query the pool index, cumulative cost, reward and the best cell so far."""

    seed: int
    index: list[int] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    reward: list[float] = field(default_factory=list)
    best_reward: list[float] = field(default_factory=list)
    best_valid: list[float] = field(default_factory=list)
    best_test: list[float] = field(default_factory=list)
    best_index: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def clean(values: list[float]) -> list[float | None]:
            return [None if v != v else round(float(v), 6) for v in values]

        return {
            "seed": self.seed,
            "index": self.index,
            "cost": clean(self.cost),
            "reward": clean(self.reward),
            "best_reward": clean(self.best_reward),
            "best_valid": clean(self.best_valid),
            "best_test": clean(self.best_test),
            "best_index": self.best_index,
        }


def run(
    strategy: Strategy,
    benchmark: Benchmark,
    seed: int,
    budget_seconds: float | None = None,
    budget_queries: int | None = None,
    max_asks: int = 100_000,
) -> Trace:
    """Run ``strategy`` on ``benchmark`` until the budget is spent.

    Every new cell costs its benchmark cost; repeated cells are free and not recorded again. A
    proposal that would pass the time budget ends the run without being charged. A strategy's
    own cumulative ``extra_cost`` (seconds of lower-fidelity training, BOHB) is charged after each
    ``ask``; it can pass the time budget by at most one ask's lower-fidelity work.
    """
    budget = Budget(benchmark, seconds=budget_seconds, queries=budget_queries)
    trace = Trace(seed=seed)
    best = -np.inf
    charged = 0.0
    for _ in range(max_asks):
        if budget.exhausted():
            break
        proposals = np.atleast_1d(np.asarray(strategy.ask(), dtype=np.int64))
        # Work a strategy did itself (BOHB's lower-fidelity evaluations) is charged too.
        extra = float(getattr(strategy, "extra_cost", 0.0))
        budget.spent += extra - charged
        charged = extra
        if len(proposals) == 0 or (budget.seconds is not None and budget.spent >= budget.seconds):
            break
        rewards = np.empty(len(proposals))
        stop = False
        for k, index in enumerate(proposals.tolist()):
            new = index not in budget.seen
            try:
                row = budget.query(index)
            except BudgetExhausted:
                stop = True
                rewards = rewards[:k]
                proposals = proposals[:k]
                break
            rewards[k] = row["search"]
            if not new:
                continue
            if row["search"] > best:
                best = row["search"]
                best_row, best_index = row, index
            trace.index.append(index)
            trace.cost.append(budget.spent)
            trace.reward.append(row["search"])
            trace.best_reward.append(best)
            trace.best_valid.append(best_row["valid"])
            trace.best_test.append(best_row["test"])
            trace.best_index.append(best_index)
        if len(proposals):
            strategy.tell(proposals, rewards)
        if stop:
            break
    return trace
