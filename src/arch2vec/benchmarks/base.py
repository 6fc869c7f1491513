"""Tabular benchmarks: per-cell accuracies and training cost behind one vectorised query API.

A :class:`Benchmark` holds, for one space and dataset, arrays indexed by the space's *pool index*:

- ``search``: the reward a search strategy observes (percent), e.g. 12-epoch validation accuracy;
- ``valid`` / ``test``: the reported validation and test accuracy after full training (percent,
  NaN where the source has none);
- ``cost``: seconds of training needed to obtain ``search``.

Cells a source does not cover are NaN in ``search``; :attr:`Benchmark.pool` lists the covered
ones. Accuracies are percentages (0-100) throughout. :class:`Budget` simulates wall-clock: a new
cell costs its ``cost``, a repeated cell is free, and a budget in seconds or queries ends the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(eq=False)
class Benchmark:
    name: str
    space: str
    dataset: str
    search: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    cost: np.ndarray
    source: str = ""
    fidelities: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Lower fidelities: name -> (reward %, cost s), aligned with the pool like ``search``."""
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    """Further per-cell metrics of the source (e.g. analog hardware accuracies)."""

    def __post_init__(self) -> None:
        n = len(self.search)
        for name in ("search", "valid", "test", "cost"):
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.shape != (n,):
                raise ValueError(f"benchmark {self.name}: {name} has shape {arr.shape}, not ({n},)")
            setattr(self, name, arr)
        self.pool = np.flatnonzero(~np.isnan(self.search))
        if len(self.pool) == 0:
            raise ValueError(f"benchmark {self.name}: covers no cell")

    def __len__(self) -> int:
        return len(self.search)

    @property
    def best_search(self) -> float:
        return float(np.nanmax(self.search))

    @property
    def best_valid(self) -> float:
        return float(np.nanmax(self.valid)) if not np.isnan(self.valid).all() else float("nan")

    @property
    def best_test(self) -> float:
        return float(np.nanmax(self.test)) if not np.isnan(self.test).all() else float("nan")

    def covers(self, indices) -> np.ndarray:
        idx = np.asarray(indices)
        ok = (idx >= 0) & (idx < len(self))
        out = np.zeros(idx.shape, dtype=bool)
        out[ok] = ~np.isnan(self.search[idx[ok]])
        return out

    def query(self, indices) -> dict[str, np.ndarray]:
        """Vectorised lookup: ``search``, ``valid``, ``test`` (percent) and ``cost`` (s)."""
        idx = np.asarray(indices, dtype=np.int64)
        bad = ~self.covers(idx)
        if bad.any():
            first = int(idx.ravel()[np.flatnonzero(bad.ravel())[0]])
            raise ValueError(f"benchmark {self.name}: cell {first} is not covered")
        return {
            "search": self.search[idx],
            "valid": self.valid[idx],
            "test": self.test[idx],
            "cost": self.cost[idx],
        }

    def info(self) -> dict[str, Any]:
        def stats(a: np.ndarray) -> dict[str, float] | None:
            a = a[self.pool]
            if np.isnan(a).all():
                return None
            return {
                "min": round(float(np.nanmin(a)), 4),
                "mean": round(float(np.nanmean(a)), 4),
                "max": round(float(np.nanmax(a)), 4),
            }

        return {
            "benchmark": self.name,
            "space": self.space,
            "dataset": self.dataset,
            "source": self.source,
            "cells_covered": len(self.pool),
            "search_accuracy": stats(self.search),
            "valid_accuracy": stats(self.valid),
            "test_accuracy": stats(self.test),
            "cost_seconds": stats(self.cost),
            "fidelities": sorted(self.fidelities),
            "extras": {k: stats(v) for k, v in self.extras.items()},
        }


class BudgetExhausted(Exception):
    """The simulated budget does not allow another new query."""


class Budget:
    """Simulated wall-clock: new cells cost their training time, repeats are free.

    ``seconds`` and/or ``queries`` bound the run; a query that would exceed ``seconds`` is refused
    (:class:`BudgetExhausted`) and not charged, so the spent time never passes the budget.
    """

    def __init__(
        self, benchmark: Benchmark, seconds: float | None = None, queries: int | None = None
    ) -> None:
        if seconds is None and queries is None:
            raise ValueError("a budget needs seconds or queries")
        if seconds is not None and np.isnan(benchmark.cost[benchmark.pool]).any():
            raise ValueError(
                f"benchmark {benchmark.name} has no training cost: give a budget in queries"
            )
        self.benchmark = benchmark
        self.seconds = seconds
        self.queries = queries
        self.spent = 0.0
        self.seen: set[int] = set()

    @property
    def num_queries(self) -> int:
        return len(self.seen)

    def exhausted(self) -> bool:
        return (self.queries is not None and self.num_queries >= self.queries) or (
            self.seconds is not None and self.spent >= self.seconds
        )

    def query(self, index: int) -> dict[str, float]:
        """Look one cell up, charging its cost if new; raises BudgetExhausted when over budget."""
        index = int(index)
        row = {k: float(v[0]) for k, v in self.benchmark.query([index]).items()}
        if index in self.seen:
            return row
        if self.queries is not None and self.num_queries >= self.queries:
            raise BudgetExhausted(f"{self.queries} queries used")
        if self.seconds is not None and self.spent + row["cost"] > self.seconds:
            raise BudgetExhausted(f"{self.spent:.0f} of {self.seconds:.0f} s used")
        self.seen.add(index)
        self.spent += row["cost"]
        return row
