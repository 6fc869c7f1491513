"""Many seeded runs of one strategy against one evaluator: in processes or on Ray, with resume.

:func:`run` repeats :func:`arch2vec.search.engine.run` ``runs`` times (run ``r`` uses seed
``seed + r``) and writes the record of :mod:`arch2vec.search.record` into ``out_dir`` as runs
finish. Where runs execute:

* **runs in workers** (tables, the NB-301 surrogate): each run executes whole in one worker --
  inline (``workers=1``), in ``workers`` local processes, or as a Ray task (``executor="ray"``);
* **evaluations in workers** (slow evaluators such as real training, or ``parallel=
  "evaluations"``): runs are driven from threads of this process, and each new cell of a batch is
  one task of the executor, so a cluster trains the cells of a batch in parallel.

Results never depend on where runs execute. A killed experiment continues with ``resume=True``:
finished runs are kept, the others are redone (replaying an evaluator's recorded evaluations),
so a resumed experiment equals an uninterrupted one. Resuming with other settings (anything in
``config.json`` but the number of runs) is refused.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import __version__, checks, io, spaces, threads
from arch2vec.benchmarks.base import Benchmark
from arch2vec.evaluators.base import Evaluator
from arch2vec.evaluators.table import TableEvaluator
from arch2vec.progress import Progress
from arch2vec.search import engine, record
from arch2vec.search.base import Strategy, check_params
from arch2vec.search.budget import Budget
from arch2vec.spaces.base import SearchSpace

_log = logging.getLogger(__name__)


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


@dataclass(eq=False)
class _Runs:
    """What every run of an experiment shares; called with a run index, it is the executor task
    of one run (sent to each worker once)."""

    cls: type[Strategy]
    params: dict[str, Any]
    evaluator: Evaluator
    space: SearchSpace
    features: np.ndarray | None
    candidates: np.ndarray
    budget: tuple[float | None, int | None]
    seed: int
    journal_dir: Path | None
    counters: str | None = None
    """A local directory where a run in a worker process counts its queries (``run-N``), for
    the progress bar; None: not counted."""
    label = "a search run"

    def __call__(
        self,
        run: int,
        executor: Any = None,
        stop: threading.Event | None = None,
        on_evaluation: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        seed = self.seed + run
        strategy = self.cls(
            self.space,
            embeddings=self.features,
            candidates=self.candidates,
            seed=seed,
            **self.params,
        )
        journal = None
        if self.journal_dir is not None:
            journal = engine.Journal(record.run_file(self.journal_dir, run), self.space)
        if executor is None and not self.evaluator.lookup:
            from arch2vec.executor import LocalExecutor

            executor = LocalExecutor(1)  # cell by cell, inline; a cell that raises is retried
        counter = None
        if on_evaluation is None and self.counters is not None:
            counter = on_evaluation = _Counter(Path(self.counters) / f"run-{run}")
        try:
            trace = self._trace(strategy, seed, executor, journal, stop, on_evaluation)
        finally:
            if counter is not None:
                counter.close()
        return {"run": run, **trace.to_dict()}

    def _trace(self, strategy, seed, executor, journal, stop, on_evaluation) -> engine.Trace:
        return engine.run(
            strategy,
            self.evaluator,
            Budget(*self.budget),
            space=self.space,
            seed=seed,
            executor=executor,
            journal=journal,
            stop=stop,
            on_evaluation=on_evaluation,
        )


class _Counter:
    """Queries done by a run in a worker process, written to a file at most 4 times a second
    (the experiment's process reads it for the progress bar). Best effort: a file that cannot
    be written (a worker on another machine) is not counted."""

    def __init__(self, path: Path) -> None:
        self.count, self.written = 0, 0.0
        try:
            self.fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        except OSError:
            self.fd = None

    def __call__(self) -> None:
        self.count += 1
        if self.fd is not None and time.monotonic() - self.written >= 0.25:
            self._write()

    def _write(self) -> None:
        self.written = time.monotonic()
        try:
            os.pwrite(self.fd, f"{self.count:>20d}".encode(), 0)
        except OSError:
            pass

    def close(self) -> None:
        if self.fd is not None:
            self._write()
            os.close(self.fd)
            self.fd = None


def _read_counters(directory: str, skip: set[int]) -> int:
    """Queries counted by the runs in ``directory`` other than those in ``skip``."""
    total = 0
    for entry in os.scandir(directory):
        run = entry.name.removeprefix("run-")
        if run.isdigit() and int(run) not in skip:
            try:
                with open(entry.path, "rb") as f:
                    total += int(f.read(20) or 0)
            except (OSError, ValueError):
                continue
    return total


def _identity(config: Any) -> Any:
    """What must match for a resume: the configuration but the number of runs and the source
    of the embeddings."""
    if not isinstance(config, dict):
        return None
    c = json.loads(json.dumps(io.jsonable(config)))
    c.pop("runs", None)
    if isinstance(c.get("embeddings"), dict):
        c["embeddings"].pop("source", None)
    return c


def _check_out_dir(out_dir: Path, config: dict[str, Any], resume: bool) -> None:
    path = out_dir / record.CONFIG
    if not path.is_file():
        return
    if not resume:
        raise ValueError(f"{out_dir}: already holds an experiment; resume it to continue")
    try:
        saved = json.loads(path.read_text()).get("config")
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise ValueError(f"{path}: not an experiment configuration") from None
    before, now = _identity(saved), _identity(config)
    if before == now:
        return
    if not isinstance(before, dict):
        raise ValueError(f"{path}: not an experiment configuration")
    was, space = before.get("space") or {}, now["space"]
    if not isinstance(was, dict) or was.get("fingerprint") != space["fingerprint"]:
        was = was if isinstance(was, dict) else {}
        raise ValueError(
            f"{out_dir}: cannot resume: the experiment searched {was.get('name')} (fingerprint "
            f"{was.get('fingerprint') or 'not recorded'}), not {space['name']} (fingerprint "
            f"{space['fingerprint']})"
        )
    differ = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    raise ValueError(
        f"{out_dir}: cannot resume, the experiment was made with other settings "
        f"({', '.join(differ)})"
    )


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
    processes (``executor="local"``; None: one per core for runs, 1 for evaluations), ignored by
    ``executor="ray"`` (the cluster at ``address``, default a local Ray); ``executor`` may also
    be an :class:`~arch2vec.executor.Executor` (not shut down here); ``parallel``:
    ``"runs"`` or ``"evaluations"`` (default: evaluations for a slow evaluator); ``on_run(row)``
    is called as each run finishes.
    """
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
    if parallel not in (None, "runs", "evaluations"):
        raise ValueError(f"parallel must be 'runs' or 'evaluations', got {parallel!r}")
    if isinstance(executor, str) and executor not in ("local", "ray"):
        raise ValueError(f"unknown executor {executor!r}; expected 'local' or 'ray'")
    if executor == "local" and address is not None:
        raise ValueError("an address is only for the ray executor")
    parallel = parallel or ("evaluations" if evaluator.slow else "runs")
    if workers is None:
        workers = checks.cores() if parallel == "runs" else 1
    workers = checks.workers(workers)

    source = features = None
    if cls.needs_embeddings:
        if embeddings is None:
            raise ValueError(f"strategy {cls.name} needs embeddings (a pre-training run)")
        if isinstance(embeddings, (str, Path)):
            from arch2vec.models.run import load_embeddings

            source, embeddings = str(embeddings), load_embeddings(embeddings)
        check = getattr(embeddings, "check_space", None)
        features = check(space, "embeddings") if check else np.asarray(embeddings)
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
    cls(space, embeddings=features, candidates=candidates, seed=seed, **params)  # bad values
    config = io.jsonable(
        {
            "strategy": cls.name,
            "params": params,
            "evaluator": evaluator.describe(),
            "space": {
                "name": space.name,
                "num_cells": len(space.all()),
                "fingerprint": space.fingerprint(),
                **space.options(),
            },
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
    lock = None if out is None else io.DirectoryLock(out, "experiment directory")
    try:
        done: dict[int, dict[str, Any]] = {}
        if out is not None:
            _check_out_dir(out, config, resume)
            io.remove_stale_temps(out)  # of a killed owner: this process owns the directory
            done = record.read_runs(out)
            beyond = sorted(k for k in done if k >= runs)
            if beyond:  # finished work is never dropped
                raise ValueError(
                    f"{out}: holds {len(done)} finished runs, up to run {beyond[-1]}; "
                    f"runs={runs} would drop {len(beyond)} of them: give runs >= "
                    f"{beyond[-1] + 1} or another directory"
                )
        todo = [r for r in range(runs) if r not in done]
        if done:
            _log.info("%s: resuming, %d of %d runs already done", out, len(done), runs)
        evaluations = parallel == "evaluations"
        pool = _executor(
            executor, workers if evaluations else min(workers, len(todo)), address, evaluations
        )
        _log.debug(
            "%d run(s) of %s on %s; %s in %s",
            len(todo),
            cls.name,
            evaluator.describe().get("benchmark", evaluator.name),
            parallel,
            "this process"
            if pool is None
            else f"{pool.capacity} worker(s) of {type(pool).__name__}",
        )
        counting = None  # runs in worker processes count their queries there (progress bar)
        if progress and pool is not None and not evaluations and todo:
            import tempfile

            counting = tempfile.mkdtemp(prefix="arch2vec-progress-")
        task = _Runs(
            cls,
            params,
            evaluator,
            space,
            features,
            candidates,
            (budget_seconds, budget_queries),
            seed,
            None if evaluator.lookup else out,
            counting,
        )
        try:
            if pool is not None:  # something that cannot reach the workers fails here, before
                pool.map(task if parallel == "runs" else engine.EvaluateCell.of(evaluator), [])
            if out is not None:  # anything is written
                io.atomic_write_json(
                    out / record.CONFIG, {"config": config, "arch2vec": __version__}
                )
                # rewrite without a cut last line
                io.atomic_write_text(
                    out / record.RUNS, "".join(json.dumps(done[k]) + "\n" for k in sorted(done))
                )
            start = time.perf_counter()
            with threads.limited():  # runs in this process; workers start with one thread
                _drive(task, todo, parallel, pool, done, out, progress, on_run)
        finally:
            if pool is not None and isinstance(executor, str):
                pool.shutdown()
            if counting is not None:
                import shutil

                shutil.rmtree(counting, ignore_errors=True)
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
        if rows and summary["best"] is None:  # loud: no result at all is not a search result
            errors = [e for r in rows for e in (r.get("errors") or {}).values()]
            queries = sum(len(r["index"]) for r in rows)
            raise RuntimeError(
                f"every evaluation failed ({queries} queries in {len(rows)} runs); the first: "
                f"{errors[0] if errors else 'no reward'}"
            )
        return SearchResult(summary, rows, out)
    finally:
        if lock is not None:
            lock.release()


def _executor(executor: Any, workers: int, address: str | None, force: bool) -> Any:
    """The executor to use: the one given, or a new one (None: runs inline, unless ``force``)."""
    if not isinstance(executor, str):
        return executor
    if executor == "local" and workers <= 1 and not force:
        return None
    from arch2vec.executor import make_executor

    return make_executor(executor, max(workers, 1), address)


def _drive(
    task: _Runs,
    todo: list[int],
    parallel: str,
    pool: Any,
    done: dict[int, dict[str, Any]],
    out: Path | None,
    progress: bool,
    on_run: Callable[[dict[str, Any]], None] | None,
) -> None:
    """Run ``todo``, recording each run as it finishes; the progress bar counts queries (of
    runs in worker processes: as they count them in ``task.counters``)."""
    queries = task.budget[1]
    bar = Progress(
        total=None if queries is None else len(todo) * queries,
        desc=f"{task.cls.name}: {len(todo)} run{'s' * (len(todo) != 1)}",
        unit="query",
        enabled=progress and bool(todo),
    )
    lock = threading.Lock()
    finished_runs: set[int] = set()
    finished_queries = 0

    def count() -> None:  # holding the lock
        if task.counters is not None:
            bar.set(finished_queries + _read_counters(task.counters, finished_runs))

    def finished(row: dict[str, Any]) -> None:
        nonlocal finished_queries
        with lock:
            if out is not None:
                io.append_line(out / record.RUNS, row)
            done[row["run"]] = row
            finished_runs.add(row["run"])
            finished_queries += len(row["index"])
            count()
            bar.note(runs=f"{len(finished_runs)}/{len(todo)}")
        if on_run is not None:
            on_run(row)

    def tick() -> None:
        bar.update(1)

    stop_watching = threading.Event()

    def watch() -> None:
        while not stop_watching.wait(0.5):
            with lock:
                count()

    watcher = None
    with bar:
        try:
            if parallel == "evaluations":
                _threads(task, todo, pool, finished, tick if progress else None)
            elif pool is None:
                for r in todo:
                    finished(task(r, on_evaluation=tick if progress else None))
            elif todo:
                from arch2vec.executor import Failure

                if task.counters is not None:
                    watcher = threading.Thread(target=watch, daemon=True)
                    watcher.start()
                failed: list[str] = []

                def on_result(pos: int, row: Any) -> None:
                    if isinstance(row, Failure):
                        failed.append(f"run {todo[pos]}: {row.error}")
                    else:
                        finished(row)

                pool.map(task, todo, on_result=on_result)
                if failed:
                    raise RuntimeError(f"{len(failed)} run(s) failed; first: {failed[0]}")
        finally:
            stop_watching.set()
            if watcher is not None:
                watcher.join()


def _threads(
    task: _Runs,
    todo: list[int],
    pool: Any,
    finished: Callable[[dict[str, Any]], None],
    tick: Callable[[], None] | None,
) -> None:
    """Runs driven from threads of this process (as many as ``pool`` has room for), their
    evaluations tasks of ``pool``; the first run that raises stops the others."""
    from concurrent.futures import ThreadPoolExecutor

    stop = threading.Event()

    def drive(r: int) -> None:
        try:
            row = task(r, executor=pool, stop=stop, on_evaluation=tick)
        except BaseException:
            stop.set()  # the other runs stop at their next ask
            raise
        if not stop.is_set():
            finished(row)

    threads = max(1, min(len(todo), pool.capacity))
    with ThreadPoolExecutor(threads, thread_name_prefix="arch2vec-run") as runner:
        futures = [runner.submit(drive, r) for r in todo]
        try:
            for future in futures:
                future.result()  # the first run that raised, raises here
        finally:
            stop.set()  # on an error or Ctrl-C: the runs stop after their current batch
