"""Planning an experiment: every check before anything runs, and the configuration it records.

:func:`plan` turns the arguments of :func:`arch2vec.search.run` into a :class:`Plan`: the strategy
class and **every** parameter's value (defaults included, as scikit-learn's ``get_params`` gives
them), the evaluator, the space, the embeddings by pool index, the candidate pool indices, the
budget, where runs execute; :meth:`Plan.config` is what ``config.json`` records and what a resume
must match. Nothing is written and no worker is started here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import checks, io, spaces
from arch2vec.benchmarks.base import Benchmark
from arch2vec.evaluators.base import Evaluator
from arch2vec.evaluators.table import TableEvaluator
from arch2vec.search import record
from arch2vec.search.base import Strategy, check_params
from arch2vec.search.budget import Budget
from arch2vec.spaces.base import SearchSpace

_log = logging.getLogger(__name__)


def strategy_class(strategy: str | type[Strategy]) -> type[Strategy]:
    """A registered strategy's class by name, or the Strategy class given."""
    from arch2vec.search import STRATEGIES

    if isinstance(strategy, str):
        return STRATEGIES[strategy]
    if isinstance(strategy, type) and issubclass(strategy, Strategy):
        return strategy
    raise ValueError(f"strategy must be a registered name or a Strategy class, got {strategy!r}")


def full_params(cls: type[Strategy], params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with every other parameter of ``cls`` at its default, in declaration order."""
    return {**cls.parameters(), **params}


@dataclass(eq=False)
class Plan:
    """A checked experiment, ready to run (see :func:`plan`)."""

    cls: type[Strategy]
    params: dict[str, Any]
    evaluator: Evaluator
    space: SearchSpace
    features: np.ndarray | None
    source: str | None
    candidates: np.ndarray
    budget_seconds: float | None
    budget_queries: int | None
    seed: int
    runs: int
    parallel: str
    workers: int

    @property
    def budget(self) -> tuple[float | None, int | None]:
        return self.budget_seconds, self.budget_queries

    def config(self) -> dict[str, Any]:
        """The configuration ``config.json`` records: JSON values only."""
        space, features = self.space, self.features
        return io.jsonable(
            {
                "strategy": self.cls.name,
                "params": self.params,
                "evaluator": self.evaluator.describe(),
                "space": {
                    "name": space.name,
                    "num_cells": len(space.all()),
                    "fingerprint": space.fingerprint(),
                    **space.options(),
                },
                "candidates": {
                    "count": len(self.candidates),
                    "sha256": record.digest(self.candidates),
                },
                "embeddings": None
                if features is None
                else {
                    "shape": list(features.shape),
                    "sha256": record.digest(features),
                    "source": self.source,
                },
                "budget_seconds": self.budget_seconds,
                "budget_queries": self.budget_queries,
                "seed": self.seed,
                "runs": self.runs,
            }
        )

    def defaults(self) -> dict[str, Any]:
        """The strategy's parameters at their defaults, as JSON (an older ``config.json`` kept
        only the parameters given: a resume compares it with these filled in)."""
        return io.jsonable(full_params(self.cls, {}))


def plan(
    strategy: str | type[Strategy],
    evaluator: Evaluator | Benchmark,
    *,
    space: SearchSpace | str | None = None,
    embeddings: Any = None,
    params: dict[str, Any] | None = None,
    runs: int = 1,
    budget_seconds: float | None = None,
    budget_queries: int | None = None,
    seed: int = 0,
    workers: int | None = 1,
    executor: Any = "local",
    address: str | None = None,
    parallel: str | None = None,
) -> Plan:
    """Check the arguments of :func:`arch2vec.search.run` (the same names and meanings) and
    resolve them: embeddings loaded, candidates and where runs execute chosen, the strategy built
    once on them so that a bad value fails here."""
    cls = strategy_class(strategy)
    params = check_params(cls, dict(params or {}))
    evaluator = TableEvaluator(evaluator) if isinstance(evaluator, Benchmark) else evaluator
    if not isinstance(evaluator, Evaluator):
        raise ValueError(f"evaluator must be an Evaluator or a Benchmark, got {evaluator!r}")
    space = spaces.get(space or evaluator.space) if not isinstance(space, SearchSpace) else space
    evaluator.check_space(space)
    runs = checks.integer("runs", runs, 1, checks.MAX_RUNS)
    seed = checks.seed(seed)
    Budget(budget_seconds, budget_queries)  # checks the budget
    if budget_queries is None and not evaluator.lookup:
        raise ValueError(
            f"evaluator {evaluator.name} tells costs only once it has evaluated (a failed "
            "evaluation costs nothing): give a budget in queries (budget_queries)"
        )
    parallel, workers = _where(evaluator, workers, executor, address, parallel)
    source, features = _features(cls, embeddings, space)
    candidates = evaluator.candidates(len(space.all()))
    candidates = np.arange(len(space.all())) if candidates is None else candidates
    if budget_seconds is not None:
        costs = evaluator.cost_of(candidates)
        if costs is not None and not np.isfinite(costs).all():
            raise ValueError(
                f"{evaluator.describe().get('benchmark', evaluator.name)} has no training cost "
                "for every cell: give a budget in queries"
            )
    if "fidelities" in cls.parameters() and "fidelities" not in params:
        params["fidelities"] = tuple(evaluator.fidelities)
    params = full_params(cls, params)
    cls(space, embeddings=features, candidates=candidates, seed=seed, **params)  # bad values
    start = params.get(cls.random_start) if cls.random_start else None
    if budget_queries is not None and isinstance(start, int) and start >= budget_queries:
        _log.warning(
            "strategy %s: %s=%d random cells come before it uses what it learns, and the budget "
            "is %d queries: every query is a random cell (random search); give %s below the "
            "budget",
            cls.name,
            cls.random_start,
            start,
            budget_queries,
            cls.random_start,
        )
    return Plan(
        cls,
        params,
        evaluator,
        space,
        features,
        source,
        candidates,
        budget_seconds,
        budget_queries,
        seed,
        runs,
        parallel,
        workers,
    )


def _where(
    evaluator: Evaluator, workers: int | None, executor: Any, address: str | None, parallel: Any
) -> tuple[str, int]:
    """``parallel`` ("runs" or "evaluations") and the number of workers, checked."""
    if parallel not in (None, "runs", "evaluations"):
        raise ValueError(f"parallel must be 'runs' or 'evaluations', got {parallel!r}")
    if isinstance(executor, str) and executor not in ("local", "ray"):
        raise ValueError(f"unknown executor {executor!r}; expected 'local' or 'ray'")
    if executor == "local" and address is not None:
        raise ValueError("an address is only for the ray executor")
    parallel = parallel or ("evaluations" if evaluator.slow else "runs")
    if workers is None:
        workers = checks.cores() if parallel == "runs" else 1
    return parallel, checks.workers(workers)


def _features(
    cls: type[Strategy], embeddings: Any, space: SearchSpace
) -> tuple[str | None, np.ndarray | None]:
    """The embeddings' source (a path, if read from one) and features by pool index, for a
    strategy that needs them; (None, None) for one that does not."""
    if not cls.needs_embeddings:
        return None, None
    if embeddings is None:
        raise ValueError(f"strategy {cls.name} needs embeddings (a pre-training run)")
    source = None
    if isinstance(embeddings, (str, Path)):
        from arch2vec.models.run import load_embeddings

        source, embeddings = str(embeddings), load_embeddings(embeddings)
    check = getattr(embeddings, "check_space", None)
    return source, check(space, "embeddings") if check else np.asarray(embeddings)
