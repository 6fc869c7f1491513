"""The one search loop: a strategy against an evaluator under a budget.

:func:`run` asks the strategy for pool indices, evaluates the new ones with the evaluator,
charges the budget, records the run and tells the strategy the rewards, until the budget is spent
or the strategy has nothing left to propose. It is the only place where budget, deduplication and
recording happen; the experiment layer (:mod:`arch2vec.search.experiment`) runs it for many seeds.

* **Queries.** The first evaluation of a cell at the search reward is a query: it costs its
  seconds and is recorded in the :class:`Trace` (pool index, cumulative cost, reward, and the best
  cell so far with the validation and test accuracy its source reports). A cell asked for again is
  told its first reward for free and not recorded again.
* **Budget** (:class:`~arch2vec.search.budget.Budget`). Where the evaluator knows costs in advance
  (a table), a batch is cut before its first new cell that does not fit; the strategy is told the
  prefix it got and the run ends. Where costs are known only afterwards, the new cells within the
  query budget are evaluated, charged, and the run ends once the seconds are spent.
* **Lower fidelities.** A strategy asking with a :class:`~arch2vec.search.base.Request` at a
  fidelity gets those evaluations charged but not recorded as queries (BOHB's rungs); one that
  would pass the time budget ends the run.
* **Failures.** An evaluation that fails (the evaluator reports an error or a non-finite reward,
  or raises on every attempt an executor makes) is a spent query, told as NaN, recorded with its
  error (strategies skip NaN rewards).
* **Journal** (optional, for slow evaluators): every evaluation is appended at once to a
  :class:`~arch2vec.search.record.Journal`; rebuilt with the same seed, a resumed run replays
  the recorded results instead of evaluating again (strategies are deterministic given the
  rewards they are told), so a resumed run equals an uninterrupted one.
* **Executor** (optional): the new cells of a batch are evaluated one task per cell, in parallel
  where the executor has room; without one the batch is evaluated in one call, in this thread.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arch2vec.evaluators.base import Evaluation, Evaluator
from arch2vec.io import clean
from arch2vec.search.base import Request, Strategy
from arch2vec.search.budget import Budget
from arch2vec.search.record import Journal
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import Cells

MAX_ASKS = 100_000
"""Asks per run before it gives up (a strategy that keeps proposing evaluated cells)."""


@dataclass
class Trace:
    """One run: per query the pool index, cumulative cost, reward and the best cell so far."""

    seed: int | None = None
    index: list[int] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    reward: list[float] = field(default_factory=list)
    best_reward: list[float] = field(default_factory=list)
    best_valid: list[float] = field(default_factory=list)
    best_test: list[float] = field(default_factory=list)
    best_index: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)  # query position -> why it failed
    evaluations: int = 0  # every evaluation, lower fidelities included
    spent: float = 0.0  # seconds spent, lower fidelities included

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "index": self.index,
            "cost": clean(self.cost),
            "reward": clean(self.reward),
            "best_reward": clean(self.best_reward),
            "best_valid": clean(self.best_valid),
            "best_test": clean(self.best_test),
            "best_index": self.best_index,
            "errors": {str(k): v for k, v in self.errors.items()},
            "evaluations": self.evaluations,
            "spent": clean([self.spent])[0],
        }


def result_of(ev: Evaluation, j: int) -> dict[str, Any]:
    """Cell ``j`` of an evaluation as a result: ``reward``, ``cost``, ``error``, ``valid``,
    ``test``, ``info``."""
    assert ev.valid is not None and ev.test is not None  # Evaluation.__post_init__ fills them
    return {
        "reward": float(ev.reward[j]),
        "cost": float(ev.cost[j]),
        "error": ev.error[j],
        "valid": float(ev.valid[j]),
        "test": float(ev.test[j]),
        "info": dict(ev.info[j]),
    }


class EvaluateCell:
    """The executor task of one cell: ``evaluator.evaluate`` on a batch of one. One task per
    evaluator (:meth:`of`), so an executor sends it to its workers once."""

    _TASKS: weakref.WeakKeyDictionary[Evaluator, EvaluateCell] = weakref.WeakKeyDictionary()

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self.label = f"the evaluator ({type(evaluator).__name__})"

    @classmethod
    def of(cls, evaluator: Evaluator) -> EvaluateCell:
        if evaluator not in cls._TASKS:
            cls._TASKS[evaluator] = cls(evaluator)
        return cls._TASKS[evaluator]

    def __call__(self, item: tuple[Cells | None, int, str | None]) -> dict[str, Any]:
        cell, index, fidelity = item
        ev = self.evaluator.evaluate(cell, indices=np.array([index]), fidelity=fidelity)
        if len(ev.reward) != 1:
            raise ValueError(f"{self.evaluator.name}: {len(ev.reward)} results for one cell")
        return result_of(ev, 0)


class EvaluationDispatcher:
    """What one run evaluates with: the evaluator, the pool, an executor and a journal."""

    def __init__(
        self,
        evaluator: Evaluator,
        space: SearchSpace | None,
        executor: Any,
        journal: Journal | None,
        on_evaluation: Callable[[], None] | None,
    ) -> None:
        self.evaluator = evaluator
        self.executor = executor
        self.journal = journal
        self.on_evaluation = on_evaluation or (lambda: None)
        self.pool = None
        if evaluator.needs_cells:
            if space is None:
                raise ValueError(f"evaluator {evaluator.name} reads cells: give the space")
            self.pool = space.all()
        self.next_query = 0

    def evaluate(self, indices: list[int], fidelity: str | None) -> list[dict[str, Any]]:
        """Results of ``indices`` (replayed from the journal where it has them), in order."""
        first = self.next_query
        self.next_query += len(indices)
        results: list[Any] = [None] * len(indices)
        if self.journal is not None:
            for k, index in enumerate(indices):
                results[k] = self.journal.replay(first + k, index, fidelity)
                if results[k] is not None:
                    self.on_evaluation()
        todo = [k for k, r in enumerate(results) if r is None]

        def finished(k: int, result: dict[str, Any]) -> None:
            bad = not math.isfinite(result["reward"])
            if fidelity is None and bad and result["error"] is None:
                result["error"] = "the evaluator returned a non-finite reward"
            results[k] = result
            if self.journal is not None:
                self.journal.write(first + k, indices[k], fidelity, result)
            self.on_evaluation()

        if todo and self.executor is None:  # one call for the batch, in this thread
            idx = np.asarray([indices[k] for k in todo], dtype=np.int64)
            ev = self.evaluator.evaluate(
                None if self.pool is None else self.pool[idx], indices=idx, fidelity=fidelity
            )
            if len(ev.reward) != len(idx):
                name, got = self.evaluator.name, len(ev.reward)
                raise ValueError(f"evaluator {name}: {got} results for {len(idx)} cells")
            for j, k in enumerate(todo):
                finished(k, result_of(ev, j))
        elif todo:  # one task per cell
            from arch2vec.executor import Failure

            def on_result(pos: int, value: Any) -> None:
                if isinstance(value, Failure):
                    after = "" if value.attempts == 1 else f" (after {value.attempts} attempts)"
                    value = {"reward": math.nan, "cost": 0.0, "error": value.error + after}
                    value.update(valid=math.nan, test=math.nan, info={})
                finished(todo[pos], value)

            items = [
                (None if self.pool is None else self.pool[[indices[k]]], indices[k], fidelity)
                for k in todo
            ]
            self.executor.map(EvaluateCell.of(self.evaluator), items, on_result=on_result)
        return results


def run(
    strategy: Strategy,
    evaluator: Evaluator,
    budget: Budget,
    *,
    space: SearchSpace | None = None,
    seed: int | None = None,
    executor: Any = None,
    journal: Journal | None = None,
    stop: threading.Event | None = None,
    on_evaluation: Callable[[], None] | None = None,
    max_asks: int = MAX_ASKS,
) -> Trace:
    """Run ``strategy`` against ``evaluator`` until ``budget`` is spent (see the module
    docstring); returns the run's :class:`Trace`. ``space``: the strategy's space (default:
    ``strategy.space``), whose cells an evaluator may read; ``stop``: an event that ends the run
    at its next ask; ``on_evaluation()``: called after every evaluation (a progress bar)."""
    space = space if space is not None else getattr(strategy, "space", None)
    loop = EvaluationDispatcher(evaluator, space, executor, journal, on_evaluation)
    trace = Trace(seed=seed)
    seen: dict[int, float] = {}  # index -> reward of its query
    best, best_row = -math.inf, (math.nan, math.nan, -1)
    for _ in range(max_asks):
        if budget.exhausted() or (stop is not None and stop.is_set()):
            break
        request = Request.of(strategy.ask())
        proposals = request.indices.tolist()
        if not proposals:
            break
        told, new = _admitted(evaluator, budget, seen, proposals, request.fidelity)
        results = loop.evaluate(new, request.fidelity) if new else []
        trace.evaluations += len(results)
        if request.fidelity is not None:  # charged, not a query, not recorded
            for r in results:
                budget.charge(r["cost"], query=False)
            rewards = [r["reward"] for r in results]
            strategy.tell(np.asarray(told), np.asarray(rewards), fidelity=request.fidelity)
        else:
            for index, r in zip(new, results, strict=True):
                seen[index] = r["reward"]
                if r["error"] is not None:
                    trace.errors[len(trace.index)] = r["error"]
                if r["reward"] > best:
                    best, best_row = r["reward"], (r["valid"], r["test"], index)
                trace.index.append(index)
                trace.cost.append(budget.charge(r["cost"]))
                trace.reward.append(r["reward"])
                trace.best_reward.append(best if best > -math.inf else math.nan)
                trace.best_valid.append(best_row[0])
                trace.best_test.append(best_row[1])
                trace.best_index.append(best_row[2])
            if told:
                told_rewards = np.array([seen[i] for i in told], dtype=np.float64)
                strategy.tell(np.asarray(told, dtype=np.int64), told_rewards)
        if len(told) < len(proposals):
            break  # the budget ran out inside this batch
    if journal is not None and not (stop is not None and stop.is_set()):
        journal.close()
    trace.spent = budget.spent
    return trace


def _admitted(
    evaluator: Evaluator,
    budget: Budget,
    seen: dict[int, float],
    proposals: list[int],
    fidelity: str | None,
) -> tuple[list[int], list[int]]:
    """The prefix of ``proposals`` the budget allows (told) and what of it to evaluate: at the
    search reward the new cells (each a query), at a lower fidelity all of them."""
    lower = fidelity is not None
    fresh = proposals if lower else list(dict.fromkeys(i for i in proposals if i not in seen))
    costs = evaluator.cost_of(np.asarray(fresh, dtype=np.int64), fidelity) if fresh else None
    cost = {} if costs is None else dict(zip(fresh, costs.tolist(), strict=True))
    left = None if lower else budget.queries_left()
    running = budget.spent
    told: list[int] = []
    new: list[int] = []
    for index in proposals:
        if lower or (index not in seen and index not in new):
            if left is not None and len(new) == left:
                break
            if costs is not None:
                if not budget.fits(cost[index], running):
                    break
                running += cost[index]
            new.append(index)
        told.append(index)
    return told, new
