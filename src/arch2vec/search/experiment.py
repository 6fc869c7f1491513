"""Many seeded runs of one strategy against one evaluator: in processes or on Ray, with resume.

:func:`run` repeats :func:`arch2vec.search.engine.run` ``runs`` times (run ``r`` uses seed
``seed + r``) and writes the record of :mod:`arch2vec.search.record` into ``out_dir`` as runs
finish. It is three steps: :func:`arch2vec.search.plan.plan` checks the arguments and records
every parameter; :class:`arch2vec.search.record.ExperimentDir` owns the directory (its lock, the
resume check and every file); the executor chosen here runs them. Where runs execute:

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

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arch2vec import threads
from arch2vec.benchmarks.base import Benchmark
from arch2vec.evaluators.base import Evaluator
from arch2vec.progress import Progress
from arch2vec.search import engine, record
from arch2vec.search.base import Strategy
from arch2vec.search.budget import Budget
from arch2vec.search.plan import Plan, plan
from arch2vec.spaces.base import SearchSpace

_log = logging.getLogger(__name__)


@dataclass
class SearchResult:
    """What :func:`run` returns: the summary, the finished runs (records of
    :meth:`~arch2vec.search.engine.Trace.to_dict` with their ``run``) and the directory."""

    summary: dict[str, Any]
    runs: list[dict[str, Any]] = field(default_factory=list)
    out_dir: Path | None = None


@dataclass(eq=False)
class _Runs:
    """What every run of an experiment shares; called with a run index, it is the executor task
    of one run (sent to each worker once)."""

    plan: Plan
    journal_dir: Path | None
    """Where runs journal their evaluations (slow evaluators); None: not journaled."""
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
        p = self.plan
        seed = p.seed + run
        strategy = p.cls(
            p.space, embeddings=p.features, candidates=p.candidates, seed=seed, **p.params
        )
        journal = None
        if self.journal_dir is not None:
            journal = record.Journal(record.run_file(self.journal_dir, run), p.space)
        if executor is None and not p.evaluator.lookup:
            from arch2vec.executor import LocalExecutor

            executor = LocalExecutor(1)  # cell by cell, inline; a cell that raises is retried
        counter = None
        if on_evaluation is None and self.counters is not None:
            counter = on_evaluation = _Counter(Path(self.counters) / f"run-{run}")
        try:
            trace = engine.run(
                strategy,
                p.evaluator,
                Budget(*p.budget),
                space=p.space,
                seed=seed,
                executor=executor,
                journal=journal,
                stop=stop,
                on_evaluation=on_evaluation,
            )
        finally:
            if counter is not None:
                counter.close()
        return {"run": run, **trace.to_dict()}


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
        assert self.fd is not None  # the callers check
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
    p = plan(
        strategy,
        evaluator,
        space=space,
        embeddings=embeddings,
        params=params,
        runs=runs,
        budget_seconds=budget_seconds,
        budget_queries=budget_queries,
        seed=seed,
        workers=workers,
        executor=executor,
        address=address,
        parallel=parallel,
    )
    config = p.config()
    exp = None if out_dir is None else record.ExperimentDir(out_dir, config, resume, p.defaults())
    try:
        done = {} if exp is None else exp.done
        todo = [r for r in range(p.runs) if r not in done]
        if done and exp is not None:  # (done is empty without an experiment directory)
            _log.info("%s: resuming, %d of %d runs already done", exp.path, len(done), p.runs)
        start = time.perf_counter()
        _execute(p, exp, todo, done, executor, address, progress, on_run)
        rows = [done[k] for k in sorted(done)]
        summary = record.summarise(
            rows,
            config,
            native=lambda index: record.native_name(p.space, index),
            native_key=p.space.native_key,
            wall=time.perf_counter() - start,
        )
        if exp is not None:
            exp.write_summary(summary)
        if rows and summary["best"] is None:  # loud: no result at all is not a search result
            errors = [e for r in rows for e in (r.get("errors") or {}).values()]
            queries = sum(len(r["index"]) for r in rows)
            raise RuntimeError(
                f"every evaluation failed ({queries} queries in {len(rows)} runs); the first: "
                f"{errors[0] if errors else 'no reward'}"
            )
        return SearchResult(summary, rows, None if exp is None else exp.path)
    finally:
        if exp is not None:
            exp.release()


def _execute(
    p: Plan,
    exp: record.ExperimentDir | None,
    todo: list[int],
    done: dict[int, dict[str, Any]],
    executor: Any,
    address: str | None,
    progress: bool,
    on_run: Callable[[dict[str, Any]], None] | None,
) -> None:
    """Run ``todo`` where the plan says (an executor chosen by :func:`_executor`), recording each
    finished run into ``done`` and ``exp``."""
    evaluations = p.parallel == "evaluations"
    pool = _executor(
        executor, p.workers if evaluations else min(p.workers, len(todo)), address, evaluations
    )
    _log.debug(
        "%d run(s) of %s on %s; %s in %s",
        len(todo),
        p.cls.name,
        p.evaluator.describe().get("benchmark", p.evaluator.name),
        p.parallel,
        "this process" if pool is None else f"{pool.capacity} worker(s) of {type(pool).__name__}",
    )
    counting = None  # runs in worker processes count their queries there (progress bar)
    if progress and pool is not None and not evaluations and todo:
        import tempfile

        counting = tempfile.mkdtemp(prefix="arch2vec-progress-")
    journal_dir = None if p.evaluator.lookup or exp is None else exp.path
    task = _Runs(p, journal_dir, counting)
    try:
        if pool is not None:  # something that cannot reach the workers fails here, before
            pool.map(task if not evaluations else engine.EvaluateCell.of(p.evaluator), [])
        if exp is not None:  # anything is written
            exp.start()
        with threads.limited():  # runs in this process; workers start with one thread
            _drive(task, todo, p.parallel, pool, done, exp, progress, on_run)
    finally:
        if pool is not None and isinstance(executor, str):
            pool.shutdown()
        if counting is not None:
            import shutil

            shutil.rmtree(counting, ignore_errors=True)


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
    exp: record.ExperimentDir | None,
    progress: bool,
    on_run: Callable[[dict[str, Any]], None] | None,
) -> None:
    """Run ``todo``, recording each run as it finishes; the progress bar counts queries (of
    runs in worker processes: as they count them in ``task.counters``)."""
    queries = task.plan.budget_queries
    bar = Progress(
        total=None if queries is None else len(todo) * queries,
        desc=f"{task.plan.cls.name}: {len(todo)} run{'s' * (len(todo) != 1)}",
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
            if exp is not None:
                exp.append(row)
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
