"""Many seeded runs of one strategy against one evaluator: in processes or on Ray, with resume.

:func:`run` repeats :func:`arch2vec.search.engine.run` ``runs`` times (run ``r`` uses seed
``seed + r``) and writes the record of :mod:`arch2vec.search.record` into ``out_dir`` as runs
finish. Where runs execute:

* **runs in workers** (table benchmarks, the NB-301 surrogate): each run executes whole in one
  worker -- inline (``workers=1``), in ``workers`` local processes, or as a Ray task
  (``executor="ray"``);
* **evaluations in workers** (slow evaluators such as real training, or ``parallel=
  "evaluations"``): runs are driven from threads of this process, and each new cell of a batch is
  one task of the executor, so a cluster trains the cells of a batch in parallel.

Results never depend on where runs execute. A killed experiment continues with ``resume=True``:
finished runs are kept, the others are redone (replaying a slow evaluator's recorded evaluations),
so a resumed experiment equals an uninterrupted one. Resuming with other settings (anything in
``config.json`` but the number of runs) is refused.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import __version__, io, spaces
from arch2vec.benchmarks.base import Benchmark
from arch2vec.evaluators.base import Evaluator
from arch2vec.evaluators.table import TableEvaluator
from arch2vec.search import engine, record
from arch2vec.search.base import Strategy, check_params
from arch2vec.search.budget import Budget
from arch2vec.spaces.base import SearchSpace


@dataclass
class SearchResult:
    """What :func:`run` returns: the summary, the finished runs (records of
    :meth:`~arch2vec.search.engine.Trace.to_dict` with their ``run``) and the directory."""

    summary: dict[str, Any]
    runs: list[dict[str, Any]] = field(default_factory=list)
    out_dir: Path | None = None


def strategy_class(strategy: str | type[Strategy]) -> type[Strategy]:
    from arch2vec.search import STRATEGIES

    if isinstance(strategy, str):
        return STRATEGIES[strategy]
    if isinstance(strategy, type) and issubclass(strategy, Strategy):
        return strategy
    raise ValueError(f"strategy must be a registered name or a Strategy class, got {strategy!r}")


def _space_identity(space: SearchSpace) -> dict[str, Any]:
    return {"name": space.name, "num_cells": len(space.all()), **space.options()}


class _RunTask:
    """One run as an executor task: the setup travels to each worker once."""

    label = "a search run"

    def __init__(self, setup: dict[str, Any]) -> None:
        self.setup = setup

    def __call__(self, run: int) -> dict[str, Any]:
        return _one_run(self.setup, run)


def _one_run(
    setup: dict[str, Any],
    run: int,
    executor: Any = None,
    stop: threading.Event | None = None,
    on_evaluation: Callable[[], None] | None = None,
) -> dict[str, Any]:
    seed = setup["seed"] + run
    space = setup["space"]
    strategy = setup["cls"](
        space,
        embeddings=setup["features"],
        candidates=setup["candidates"],
        seed=seed,
        **setup["params"],
    )
    journal = None
    if setup["journal_dir"] is not None:
        journal = engine.Journal(record.run_file(setup["journal_dir"], run), space)
    if executor is None and not setup["evaluator"].lookup:
        from arch2vec.search.executor import LocalExecutor

        executor = LocalExecutor(1)  # cell by cell, inline, a cell that raises retried
    trace = engine.run(
        strategy,
        setup["evaluator"],
        Budget(setup["budget_seconds"], setup["budget_queries"]),
        space=space,
        seed=seed,
        executor=executor,
        journal=journal,
        stop=stop,
        on_evaluation=on_evaluation,
    )
    return {"run": run, **trace.to_dict()}


def _check_out_dir(out_dir: Path, config: dict[str, Any], resume: bool) -> None:
    path = out_dir / record.CONFIG
    if not path.is_file():
        return
    if not resume:
        raise ValueError(f"{out_dir}: already holds an experiment; resume it to continue")

    def identity(c: Any) -> Any:
        if not isinstance(c, dict):
            return None
        c = json.loads(json.dumps(record.jsonable(c)))
        c.pop("runs", None)
        if isinstance(c.get("embeddings"), dict):
            c["embeddings"].pop("source", None)
        return c

    try:
        saved = json.loads(path.read_text()).get("config")
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise ValueError(f"{path}: not an experiment configuration") from None
    if identity(saved) != identity(config):
        raise ValueError(f"{out_dir}: cannot resume, the experiment was made with other settings")


def run(
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
    out_dir: str | Path | None = None,
    resume: bool = False,
    workers: int | None = 1,
    executor: Any = "local",
    address: str | None = None,
    parallel: str | None = None,
    progress: bool = False,
    on_run: Callable[[dict[str, Any]], None] | None = None,
) -> SearchResult:
    """Run ``runs`` seeded searches of ``strategy`` against ``evaluator`` (see the module
    docstring); returns a :class:`SearchResult`, also written to ``out_dir`` when given.

    ``strategy``: a registered name (``arch2vec-bo``, ``random``, ...) or a Strategy class, built
    with ``params``; ``evaluator``: an Evaluator or a Benchmark (a table); ``space``: the space of
    the pool (default: the evaluator's); ``embeddings``: Embeddings, an array by pool index, or a
    pre-training run directory / ``.npz`` (strategies that need them); ``workers``: local
    processes (``executor="local"``), ignored by ``executor="ray"`` (the cluster at
    ``address``, default a local Ray); ``parallel``: ``"runs"`` or ``"evaluations"`` (default:
    evaluations for a slow evaluator); ``on_run(row)`` is called as each run finishes.
    """
    cls = strategy_class(strategy)
    params = check_params(cls, dict(params or {}))
    if isinstance(evaluator, Benchmark):
        evaluator = TableEvaluator(evaluator)
    if not isinstance(evaluator, Evaluator):
        raise ValueError(f"evaluator must be an Evaluator or a Benchmark, got {evaluator!r}")
    if space is None:
        if not evaluator.space:
            raise ValueError(f"evaluator {evaluator.name} names no space: give the space")
        space = evaluator.space
    space = spaces.get(space) if isinstance(space, str) else space
    if evaluator.space and evaluator.space != space.name:
        raise ValueError(
            f"evaluator {evaluator.name} scores {evaluator.space} cells, not {space.name}"
        )
    if isinstance(runs, bool) or int(runs) != runs or runs < 1:
        raise ValueError(f"runs must be a positive integer, got {runs!r}")
    runs = int(runs)
    Budget(budget_seconds, budget_queries)  # checks the budget
    if budget_queries is None and not evaluator.lookup:
        raise ValueError(
            f"evaluator {evaluator.name} tells costs only once it has evaluated (a failed "
            "evaluation costs nothing): give a budget in queries (budget_queries)"
        )
    if parallel not in (None, "runs", "evaluations"):
        raise ValueError(f"parallel must be 'runs' or 'evaluations', got {parallel!r}")
    if isinstance(executor, str) and executor not in ("local", "ray"):
        raise ValueError(f"unknown executor {executor!r}; expected 'local' or 'ray'")
    if executor == "local" and address is not None:
        raise ValueError("an address is only for the ray executor")
    parallel = parallel or ("evaluations" if evaluator.slow else "runs")
    if workers is None:
        workers = (os.cpu_count() or 1) if parallel == "runs" else 1
    if isinstance(workers, bool) or int(workers) != workers or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")

    source = None
    features = None
    if cls.needs_embeddings:
        if embeddings is None:
            raise ValueError(f"strategy {cls.name} needs embeddings (a pre-training run)")
        if isinstance(embeddings, (str, Path)):
            from arch2vec.models.run import load_embeddings

            source = str(embeddings)
            embeddings = load_embeddings(embeddings)
        check = getattr(embeddings, "check_space", None)
        features = check(space, "embeddings") if check else np.asarray(embeddings)
    pool = space.all()
    candidates = evaluator.candidates(len(pool))
    if candidates is None:
        candidates = np.arange(len(pool), dtype=np.int64)
    if budget_seconds is not None:
        costs = evaluator.cost_of(candidates)
        if costs is not None and not np.isfinite(costs).all():
            raise ValueError(
                f"{evaluator.describe().get('benchmark', evaluator.name)} has no training cost "
                "for every cell: give a budget in queries"
            )
    if "fidelities" in cls.parameters() and "fidelities" not in params:
        params["fidelities"] = tuple(evaluator.fidelities)
    # bad parameter values fail here, before anything is written
    cls(space, embeddings=features, candidates=candidates, seed=seed, **params)
    config = record.jsonable(
        {
            "strategy": cls.name,
            "params": params,
            "evaluator": evaluator.describe(),
            "space": _space_identity(space),
            "candidates": {"count": len(candidates), "sha256": record.digest(candidates)},
            "embeddings": None
            if features is None
            else {
                "shape": list(features.shape),
                "sha256": record.digest(features),
                "source": source,
            },
            "budget_seconds": budget_seconds,
            "budget_queries": budget_queries,
            "seed": seed,
            "runs": runs,
        }
    )
    out = None if out_dir is None else Path(out_dir)
    done: dict[int, dict[str, Any]] = {}
    if out is not None:
        _check_out_dir(out, config, resume)
        done = {k: v for k, v in record.read_runs(out).items() if k < runs}
    todo = [r for r in range(runs) if r not in done]
    setup = {
        "cls": cls,
        "params": params,
        "evaluator": evaluator,
        "space": space,
        "features": features,
        "candidates": candidates,
        "budget_seconds": budget_seconds,
        "budget_queries": budget_queries,
        "seed": seed,
        "journal_dir": None if evaluator.lookup else out,
    }
    pool, task = _executor(setup, parallel, executor, workers, address, len(todo))
    own = isinstance(executor, str)
    try:
        if pool is not None:  # an evaluator that cannot reach the workers fails here, before
            pool.map(task, [])  # anything is written
        if out is not None:
            io.atomic_write_json(out / record.CONFIG, {"config": config, "arch2vec": __version__})
            # rewrite without a cut last line (or a run of a larger earlier experiment)
            io.atomic_write_text(
                out / record.RUNS, "".join(json.dumps(done[k]) + "\n" for k in sorted(done))
            )
        start = time.perf_counter()
        _drive(setup, todo, parallel, pool, task, done, out, progress, on_run, runs)
    finally:
        if pool is not None and own:
            pool.shutdown()
    rows = [done[k] for k in sorted(done)]
    summary = record.summarise(
        rows,
        config,
        native=lambda index: engine.native_name(space, index),
        native_key=space.native_key,
        wall=time.perf_counter() - start,
    )
    if out is not None:
        io.atomic_write_json(out / record.SUMMARY, summary)
    return SearchResult(summary, rows, out)


def _executor(
    setup: dict[str, Any],
    parallel: str,
    executor: Any,
    workers: int,
    address: str | None,
    todo: int,
) -> tuple[Any, Any]:
    """The executor (None: runs inline) and the task it runs: whole runs, or evaluations."""
    from arch2vec.search.executor import make_executor

    if parallel == "runs":
        task = _RunTask(setup)
        if isinstance(executor, str):
            if executor == "local" and min(workers, todo) <= 1:
                return None, task
            return make_executor(executor, min(workers, max(todo, 1)), address), task
        return executor, task
    task = engine.EvaluateCell.of(setup["evaluator"])
    if isinstance(executor, str):
        return make_executor(executor, workers, address), task
    return executor, task


def _drive(
    setup: dict[str, Any],
    todo: list[int],
    parallel: str,
    pool: Any,
    task: Any,
    done: dict[int, dict[str, Any]],
    out: Path | None,
    progress: bool,
    on_run: Callable[[dict[str, Any]], None] | None,
    runs: int,
) -> None:
    """Run ``todo``, recording each run as it finishes."""
    bar = None
    if progress:
        from tqdm import tqdm

        name = setup["cls"].name
        if parallel == "runs":
            bar = tqdm(total=runs, initial=len(done), unit="run", desc=name, disable=None)
        else:
            queries = setup["budget_queries"]
            total = None if queries is None else runs * queries
            bar = tqdm(total=total, unit="cell", desc=name, disable=None)
    lock = threading.Lock()

    def finished(row: dict[str, Any]) -> None:
        with lock:
            if out is not None:
                record.append_line(out / record.RUNS, row)
            done[row["run"]] = row
            if bar is not None and parallel == "runs":
                bar.update(1)
        if on_run is not None:
            on_run(row)

    try:
        if not todo:
            return
        if parallel == "evaluations":
            _evaluations_in_workers(setup, todo, pool, finished, bar)
        elif pool is None:
            for r in todo:
                finished(_one_run(setup, r))
        else:
            _runs_in_workers(todo, pool, task, finished)
    finally:
        if bar is not None:
            bar.close()


def _runs_in_workers(
    todo: list[int],
    pool: Any,
    task: _RunTask,
    finished: Callable[[dict[str, Any]], None],
) -> None:
    """Each run one task of ``pool``; a run that keeps failing raises once the others are
    recorded."""
    from arch2vec.search.executor import Failure

    failed: list[str] = []

    def on_result(pos: int, row: Any) -> None:
        if isinstance(row, Failure):
            failed.append(f"run {todo[pos]}: {row.error}")
        else:
            finished(row)

    pool.map(task, todo, on_result=on_result)
    if failed:
        raise RuntimeError(f"{len(failed)} run(s) failed; first: {failed[0]}")


def _evaluations_in_workers(
    setup: dict[str, Any],
    todo: list[int],
    pool: Any,
    finished: Callable[[dict[str, Any]], None],
    bar: Any,
) -> None:
    """Runs driven from threads of this process, their evaluations tasks of ``pool``."""
    from concurrent.futures import ThreadPoolExecutor

    stop = threading.Event()
    bar_lock = threading.Lock()

    def tick() -> None:
        if bar is not None:
            with bar_lock:
                bar.update(1)

    def drive(r: int) -> None:
        try:
            row = _one_run(setup, r, executor=pool, stop=stop, on_evaluation=tick)
        except BaseException:
            stop.set()  # the other runs stop at their next ask
            raise
        if not stop.is_set():
            finished(row)

    threads = max(1, min(len(todo), pool.capacity))
    if threads == 1:
        for r in todo:
            drive(r)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="arch2vec-run") as runner:
        futures = [runner.submit(drive, r) for r in todo]
        try:
            for future in futures:
                future.result()  # the first run that raised, raises here
        finally:
            stop.set()  # on an error or Ctrl-C: the runs stop after their current batch
