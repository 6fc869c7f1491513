"""A tabular benchmark as an evaluator: rewards looked up by pool index, costs known in advance.

:class:`TableEvaluator` reads a :class:`~arch2vec.benchmarks.base.Benchmark`: the search reward,
the reported validation and test accuracy and the cost of every covered cell. Its lower
fidelities are the benchmark's fidelities that are cheaper than the search reward (median cost
ratio below 1 over the covered cells), cheapest first: e.g. ``4``, ``12`` and ``36`` epochs of
``nb101-30k``, whose ``108`` is the search reward itself. A lower-fidelity reward the table does
not have is NaN and costs nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from arch2vec.benchmarks.base import Benchmark
from arch2vec.evaluators.base import Evaluation, Evaluator
from arch2vec.spaces.cells import Cells


def lower_fidelities(benchmark: Benchmark) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Name -> (reward, cost) of the fidelities cheaper than the search reward, cheapest first."""
    pool = benchmark.pool
    search_cost = benchmark.cost[pool]
    found = []
    for name, (reward, cost) in benchmark.fidelities.items():
        reward, cost = np.asarray(reward, dtype=np.float64), np.asarray(cost, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = cost[pool] / search_cost
        ratio = ratio[np.isfinite(ratio)]
        if len(ratio) and float(np.median(ratio)) < 1 - 1e-9:
            found.append((float(np.median(ratio)), name, reward, cost))
    found.sort(key=lambda f: f[0])
    return {name: (reward, cost) for _, name, reward, cost in found}


class TableEvaluator(Evaluator):
    """Look-ups in ``benchmark`` (see the module docstring)."""

    name = "table"
    needs_cells = False
    lookup = True

    def __init__(self, benchmark: Benchmark) -> None:
        self.benchmark = benchmark
        self._lower = lower_fidelities(benchmark)
        self.fidelities = tuple(self._lower)

    @property
    def space(self) -> str:  # type: ignore[override]
        return self.benchmark.space

    def check_space(self, space: Any) -> None:
        self.benchmark.check_space(space)

    def candidates(self, num_cells: int) -> np.ndarray:
        if len(self.benchmark) != num_cells:
            raise ValueError(
                f"benchmark {self.benchmark.name} has {len(self.benchmark)} cells, "
                f"the {self.space} pool {num_cells}"
            )
        return self.benchmark.pool

    def _columns(self, fidelity: str | None) -> tuple[np.ndarray, np.ndarray]:
        if fidelity is None:
            return self.benchmark.search, self.benchmark.cost
        try:
            return self._lower[fidelity]
        except KeyError:
            raise ValueError(
                f"benchmark {self.benchmark.name} has no lower fidelity {fidelity!r}; "
                f"expected one of {', '.join(self._lower) or 'none'}"
            ) from None

    def _indices(self, indices: np.ndarray | None) -> np.ndarray:
        if indices is None:
            raise ValueError(f"benchmark {self.benchmark.name}: evaluate needs pool indices")
        idx = np.asarray(indices, dtype=np.int64)
        bad = ~self.benchmark.covers(idx)
        if bad.any():
            raise ValueError(
                f"benchmark {self.benchmark.name}: cell {int(idx[bad][0])} is not covered"
            )
        return idx

    def cost_of(self, indices: np.ndarray, fidelity: str | None = None) -> np.ndarray:
        idx = self._indices(indices)
        reward, cost = self._columns(fidelity)
        cost = cost[idx]
        if fidelity is not None:  # no reward at that fidelity: nothing was spent on it
            cost = np.where(np.isfinite(reward[idx]) & np.isfinite(cost), cost, 0.0)
        return cost

    def evaluate(
        self, cells: Cells | None, *, indices: np.ndarray | None = None, fidelity: str | None = None
    ) -> Evaluation:
        idx = self._indices(indices)
        reward, _ = self._columns(fidelity)
        b = self.benchmark
        out = Evaluation(
            reward[idx], self.cost_of(idx, fidelity), valid=b.valid[idx], test=b.test[idx]
        )
        if fidelity is not None:  # the table simply has no such result: not a failure
            out.error = [None] * len(idx)
        return out

    def optimum(self) -> dict[str, float | None]:
        def known(value: float) -> float | None:
            return None if value != value else float(value)

        b = self.benchmark
        return {
            "search": known(b.best_search),
            "valid": known(b.best_valid),
            "test": known(b.best_test),
        }

    def describe(self) -> dict[str, Any]:
        b = self.benchmark
        return {
            "evaluator": self.name,
            "space": b.space,
            "space_fingerprint": b.space_fingerprint,
            "benchmark": b.name,
            "dataset": b.dataset,
            "file": b.origin.get("file"),
            "cells_covered": len(b.pool),
            "optimum": self.optimum(),
        }
