"""Search with an :class:`~arch2vec.benchmarks.evaluator.Evaluator` instead of a table.

For spaces no table covers (DARTS), a strategy's proposals are evaluated by a surrogate model or by
real training. :func:`search_with_evaluator` runs ``runs`` independent searches (run ``r`` uses
seed ``seed + r``); each loops ``ask`` -> evaluate the asked cells -> ``tell`` until ``queries``
distinct cells have been evaluated:

* **Evaluations** go through an :class:`~arch2vec.search.executor.Executor`, one task per cell,
  so a cluster trains the cells of a batch in parallel. An evaluation that fails -- the evaluator
  reports an error, returns a non-finite reward, or raises on every attempt the executor makes --
  is told to the strategy as a NaN reward (strategies skip those) and **counts as a spent query**:
  it is recorded with its error, never dropped and never retried by the search itself.
* **Budget.** A cell a run already evaluated is never evaluated again: asked again, it is told its
  recorded reward for free. When a batch holds more new cells than queries are left, only the
  first ones are evaluated and the strategy is told that prefix of the batch. A run also ends when
  the strategy has no more cells to propose.
* **Records.** Every evaluated cell is appended at once (flushed and synced) to
  ``run_{r:04d}.jsonl`` as it finishes: ``query`` (its position in the run's order of asked
  cells), pool ``index``, ``genotype`` (the space's native text), ``reward`` (percent; null when it
  failed), ``cost`` (seconds), ``error`` (null when it succeeded) and the evaluator's ``info``. A
  finished run's file is rewritten in query order.
* **Resume.** With ``resume=True`` a run is replayed: its strategy is re-created with its seed and
  every asked cell that the file holds takes its recorded result instead of being evaluated
  (strategies are deterministic given the rewards they are told), then the run goes on. A run
  whose file holds ``queries`` cells is done. A resumed search equals an uninterrupted one for a
  deterministic evaluator. Resuming with other settings (anything in ``config.json`` but the
  number of runs and the package version) is refused.
* **Parallel runs.** Independent runs are driven each in its own thread of this process (a
  strategy's own work is light) as far as the executor has room (its ``capacity``); the results
  do not depend on thread timing: each run has its own strategy, generator and file.

``out_dir`` also gets ``config.json`` (strategy, ``evaluator.describe()``, space, queries, runs,
seed, hyper-parameters, fingerprints of the candidates and features, package version),
``summary.json`` (per run the best cell -- pool index, genotype, reward, query -- and its failure
count; the overall best; mean and std of the per-run best reward; the failures in all) and
``best_cell.png`` (a drawing of the overall best cell, titled with its reward).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import __version__, io
from arch2vec.benchmarks.evaluator import Evaluator
from arch2vec.search.base import SearchProblem
from arch2vec.search.executor import Executor, Failure, LocalExecutor
from arch2vec.search.runner import strategy_class
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import Cells

MAX_ASKS = 100_000
"""Asks per run before it gives up (a strategy that keeps proposing evaluated cells)."""


def run_file(out_dir: str | Path, run: int) -> Path:
    return Path(out_dir) / f"run_{run:04d}.jsonl"


class EvaluateCell:
    """The task of one cell: ``evaluator.evaluate`` on a batch of one; a plain-dict result."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self.label = f"the evaluator ({type(evaluator).__name__})"

    def __call__(self, cell: Cells) -> dict[str, Any]:
        ev = self.evaluator.evaluate(cell)
        if len(ev.reward) != 1:
            raise ValueError(f"{self.evaluator.name}: {len(ev.reward)} results for one cell")
        return {
            "reward": float(ev.reward[0]),
            "cost": float(ev.cost[0]),
            "error": ev.error[0],
            "info": dict(ev.info[0]),
        }


def _jsonable(value: Any) -> Any:
    """JSON-safe copy: NumPy scalars and arrays as Python values, non-finite floats as null."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()[:16]


def _reward(row: dict[str, Any]) -> float:
    r = row.get("reward")
    return float("nan") if r is None else float(r)


def _read_run(path: Path) -> dict[int, dict[str, Any]]:
    """Recorded cells of a run by pool index (a line cut by a kill is skipped)."""
    rows: dict[int, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
                rows[int(row["index"])] = row
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
    return rows


def _write_run(path: Path, rows: list[dict[str, Any]]) -> None:
    io.atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


class _Run:
    """One run: its strategy, its file and the loop ask -> evaluate -> tell."""

    def __init__(self, search: _Search, run: int) -> None:
        self.search = search
        self.run = run
        self.seed = search.seed + run
        self.path = run_file(search.out_dir, run)
        self.recorded = _read_run(self.path)
        self.rows: dict[int, dict[str, Any]] = {}  # pool index -> record, of this run
        self.next_query = 0

    def done(self) -> bool:
        return len(self.recorded) >= self.search.queries

    def finish_recorded(self) -> list[dict[str, Any]]:
        """A done run: its first ``queries`` records in query order, the file rewritten so."""
        rows = sorted(self.recorded.values(), key=lambda r: r["query"])[: self.search.queries]
        _write_run(self.path, rows)
        return rows

    def drive(self) -> list[dict[str, Any]]:
        s = self.search
        _write_run(self.path, sorted(self.recorded.values(), key=lambda r: r["query"]))
        strategy = s.cls(s.problem, np.random.default_rng(self.seed), **s.hyper)
        with self.path.open("a") as out:
            for _ in range(MAX_ASKS):
                if len(self.rows) >= s.queries or s.stop.is_set():
                    break
                proposals = np.atleast_1d(np.asarray(strategy.ask(), dtype=np.int64)).tolist()
                if not proposals:
                    break
                told, new = self._budget(proposals)
                self._evaluate(new, out)
                rewards = np.array([_reward(self.rows[i]) for i in told], dtype=np.float64)
                if told:
                    strategy.tell(np.asarray(told, dtype=np.int64), rewards)
                if len(told) < len(proposals):
                    break  # the budget ran out inside this batch
        rows = sorted(self.rows.values(), key=lambda r: r["query"])
        if not s.stop.is_set():
            _write_run(self.path, rows)
        return rows

    def _budget(self, proposals: list[int]) -> tuple[list[int], list[int]]:
        """The prefix of ``proposals`` the budget allows (told) and its new cells (evaluated)."""
        told: list[int] = []
        new: list[int] = []
        left = self.search.queries - len(self.rows)
        for index in proposals:
            if index not in self.rows and index not in new:
                if len(new) == left:
                    break
                new.append(index)
            told.append(index)
        return told, new

    def _evaluate(self, new: list[int], out) -> None:
        s = self.search
        queries = {}
        for index in new:
            queries[index] = self.next_query
            self.next_query += 1
        replay = [i for i in new if i in self.recorded and self.recorded[i]["query"] == queries[i]]
        for index in replay:
            self.rows[index] = self.recorded[index]
            s.advance()
        todo = [i for i in new if i not in self.rows]
        if not todo:
            return

        def record(pos: int, result: Any) -> None:
            index = todo[pos]
            if isinstance(result, Failure):
                after = "" if result.attempts == 1 else f" (after {result.attempts} attempts)"
                result = {
                    "reward": math.nan,
                    "cost": 0.0,
                    "info": {},
                    "error": result.error + after,
                }
            reward = float(result["reward"])
            error = result.get("error")
            if not math.isfinite(reward) and not error:
                error = "the evaluator returned a non-finite reward"
            row = {
                "query": queries[index],
                "index": index,
                "genotype": s.native(index),
                "reward": reward if math.isfinite(reward) else None,
                "cost": float(result["cost"]),
                "error": None if error is None else str(error),
                "info": _jsonable(result.get("info") or {}),
            }
            out.write(json.dumps(row) + "\n")
            out.flush()
            os.fsync(out.fileno())
            self.rows[index] = row
            s.advance()

        s.executor.map(s.task, [s.pool[i] for i in todo], on_result=record)


class _Search:
    """What the runs of one search share."""

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._native_lock = threading.Lock()

    def native(self, index: int) -> Any:
        with self._native_lock:
            text = self.space.to_native(self.pool[[index]])[0]
        return text if isinstance(text, str) else _jsonable(text)

    def advance(self) -> None:
        if self.bar is not None:
            with self._lock:
                self.bar.update(1)


def _space_identity(space: SearchSpace, pool: Cells) -> dict[str, Any]:
    out: dict[str, Any] = {"name": space.name, "num_cells": len(pool)}
    for key in ("samples", "seed"):
        if hasattr(space, key):
            out[key] = getattr(space, key)
    return out


def _best(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    best = None
    for row in rows:
        r = _reward(row)
        if math.isfinite(r) and (best is None or r > best["reward"]):
            best = {
                "index": row["index"],
                "genotype": row["genotype"],
                "reward": r,
                "query": row["query"],
            }
    return best


def summarise(config: dict[str, Any], runs: dict[int, list[dict[str, Any]]], wall: float):
    per_run = []
    overall = None
    for r in sorted(runs):
        rows = runs[r]
        best = _best(rows)
        per_run.append(
            {
                "run": r,
                "seed": config["seed"] + r,
                "queries": len(rows),
                "failures": sum(row["error"] is not None for row in rows),
                "cost": round(float(sum(row["cost"] for row in rows)), 6),
                "best": best,
            }
        )
        if best is not None and (overall is None or best["reward"] > overall["reward"]):
            overall = {"run": r, **best}
    bests = np.array([p["best"]["reward"] for p in per_run if p["best"] is not None])
    return {
        "strategy": config["strategy"],
        "evaluator": config["evaluator"].get("evaluator"),
        "space": config["space"]["name"],
        "runs": len(per_run),
        "queries": config["queries"],
        "best": overall,
        "best_reward_mean": round(float(bests.mean()), 6) if len(bests) else None,
        "best_reward_std": round(float(bests.std()), 6) if len(bests) else None,
        "failures": sum(p["failures"] for p in per_run),
        "per_run": per_run,
        "wall_seconds": round(wall, 2),
        "arch2vec": __version__,
    }


def _check_resume(out_dir: Path, config: dict[str, Any], resume: bool) -> None:
    path = out_dir / "config.json"
    if not path.is_file():
        return
    if not resume:
        raise ValueError(f"{out_dir}: already holds a search; pass --resume to continue")

    def identity(c: dict[str, Any]) -> dict[str, Any]:
        c = json.loads(json.dumps(_jsonable(c)))
        c.pop("runs", None)
        c.pop("arch2vec", None)
        return c

    if identity(json.loads(path.read_text())) != identity(config):
        raise ValueError(f"{out_dir}: cannot resume, the search was made with other settings")


def search_with_evaluator(
    strategy: str,
    space: SearchSpace,
    features: np.ndarray | None,
    evaluator: Evaluator,
    out_dir: str | Path,
    runs: int = 1,
    queries: int = 100,
    seed: int = 0,
    hyper: dict[str, Any] | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    candidates: np.ndarray | None = None,
    progress: bool = True,
    on_run: Callable[[int, list[dict[str, Any]]], None] | None = None,
) -> dict[str, Any]:
    """Run ``runs`` searches of ``strategy`` over ``space`` scored by ``evaluator``; return the
    summary (also written to ``out_dir/summary.json``). See the module docstring.

    ``features``: ``(num_cells, d)`` embeddings by pool index (strategies that need them);
    ``candidates``: the pool indices a strategy may propose (default: the whole pool);
    ``executor``: where evaluations run (default: inline, one at a time; a given executor is not
    shut down); ``on_run(run, records)`` is called as each run finishes.
    """
    cls = strategy_class(strategy)
    if strategy == "bohb":
        raise ValueError(
            "bohb trains on a tabular benchmark's lower fidelities; not with --evaluator"
        )
    if runs < 1 or queries < 1:
        raise ValueError(f"runs and queries must be positive, got {runs} and {queries}")
    if evaluator.space and evaluator.space != space.name:
        raise ValueError(
            f"evaluator {evaluator.name} scores {evaluator.space} cells, not {space.name}"
        )
    pool = space.all()
    if candidates is None:
        candidates = np.arange(len(pool), dtype=np.int64)
    candidates = np.asarray(candidates, dtype=np.int64)
    if candidates.ndim != 1 or len(candidates) == 0:
        raise ValueError("candidates: expected a non-empty 1-D array of pool indices")
    if candidates.min() < 0 or candidates.max() >= len(pool):
        raise ValueError(f"candidates: pool indices must be in [0, {len(pool)})")
    if len(np.unique(candidates)) != len(candidates):
        raise ValueError("candidates: pool indices must be distinct")
    if features is not None:
        features = np.asarray(features)
        if features.ndim != 2 or len(features) != len(pool):
            raise ValueError(
                f"features: expected ({len(pool)}, d) embeddings by pool index, "
                f"got shape {features.shape}"
            )
    if cls.needs_features and features is None:
        raise ValueError(f"strategy {strategy} needs features (embeddings) of the cells")
    hyper = dict(hyper or {})
    out_dir = Path(out_dir)
    config = _jsonable(
        {
            "strategy": strategy,
            "evaluator": evaluator.describe(),
            "space": _space_identity(space, pool),
            "queries": int(queries),
            "runs": int(runs),
            "seed": int(seed),
            "hyper": hyper,
            "candidates": {"count": len(candidates), "sha256": _digest(candidates)},
            "features": None
            if features is None
            else {"shape": list(features.shape), "sha256": _digest(features)},
            "arch2vec": __version__,
        }
    )
    _check_resume(out_dir, config, resume)
    problem = SearchProblem(space=space, cells=pool, candidates=candidates, features=features)
    # bad hyper-parameters, and an evaluator that cannot reach the executor's workers (it must
    # pickle for a process pool or Ray), fail here, before anything is written
    cls(problem, np.random.default_rng(seed), **hyper)
    task = EvaluateCell(evaluator)
    own_executor = executor is None
    executor = LocalExecutor(1) if executor is None else executor
    executor.map(task, [])
    out_dir.mkdir(parents=True, exist_ok=True)
    io.atomic_write_json(out_dir / "config.json", config)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=runs * queries, unit="cell", desc=strategy, disable=None)
    search = _Search(
        cls=cls,
        problem=problem,
        hyper=hyper,
        space=space,
        pool=pool,
        seed=int(seed),
        queries=int(queries),
        out_dir=out_dir,
        executor=executor,
        task=task,
        bar=bar,
    )
    start = time.perf_counter()
    results: dict[int, list[dict[str, Any]]] = {}
    todo: list[_Run] = []
    for r in range(runs):
        one = _Run(search, r)
        if one.done():
            results[r] = one.finish_recorded()
            if bar is not None:
                bar.update(len(results[r]))
        else:
            todo.append(one)

    def drive(one: _Run) -> None:
        try:
            results[one.run] = one.drive()
        except BaseException:
            search.stop.set()  # the other runs stop at their next ask
            raise
        if on_run is not None:
            on_run(one.run, results[one.run])

    try:
        threads = max(1, min(len(todo), executor.capacity))
        if threads == 1:
            for one in todo:
                drive(one)
        elif todo:
            from concurrent.futures import ThreadPoolExecutor

            pool_threads = ThreadPoolExecutor(threads, thread_name_prefix="arch2vec-run")
            try:
                futures = [pool_threads.submit(drive, one) for one in todo]
                for future in futures:
                    future.result()  # the first run that raised, raises here
            finally:
                search.stop.set()  # on an error or Ctrl-C: runs stop after their current batch
                pool_threads.shutdown(wait=True)
    finally:
        if bar is not None:
            bar.close()
        if own_executor:
            executor.shutdown()

    summary = summarise(config, results, time.perf_counter() - start)
    io.atomic_write_json(out_dir / "summary.json", summary)
    if summary["best"] is not None:
        from arch2vec.analysis.smoothness import draw_cells

        best = summary["best"]
        title = f"best: {best['reward']:.2f}% (run {best['run']}, query {best['query']})"
        draw_cells(space, [best["index"]], out_dir / "best_cell.png", titles=[title])
    return summary


__all__ = ["EvaluateCell", "run_file", "search_with_evaluator", "summarise"]
