"""Many independent search runs in parallel worker processes, written as they finish.

An experiment directory holds ``config.json`` (the configuration and package version),
``runs.jsonl`` (one line per finished run, appended and flushed at once: seed, and per query the
pool index, cumulative cost, reward, and the best cell so far with its validation and test
accuracy) and ``summary.json``. Run ``r`` uses seed ``seed + r``; a killed experiment resumes with
``resume=True`` without redoing finished runs, and a resumed experiment equals an uninterrupted
one.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import __version__, benchmarks, io, spaces
from arch2vec.search.base import SearchProblem, Strategy, run

STRATEGIES = {
    "random": "arch2vec.search.random:RandomSearch",
    "evolution": "arch2vec.search.evolution:RegularizedEvolution",
    "reinforce": "arch2vec.search.reinforce:Reinforce",
    "bohb": "arch2vec.search.bohb:BOHB",
    "arch2vec-bo": "arch2vec.search.bo:BO",
    "arch2vec-rl": "arch2vec.search.rl:RL",
    "supervised-bo": "arch2vec.search.supervised:SupervisedBO",
    "supervised-rl": "arch2vec.search.supervised:SupervisedRL",
}


def strategy_class(name: str) -> type[Strategy]:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}")
    module, cls = STRATEGIES[name].split(":")
    return getattr(importlib.import_module(module), cls)


@dataclass
class ExperimentConfig:
    strategy: str
    benchmark: str = "nb201"
    dataset: str | None = None
    file: str | None = None
    embeddings: str | None = None  # pre-training run dir or embeddings .npz
    runs: int = 10
    budget_seconds: float | None = None
    budget_queries: int | None = None
    seed: int = 0
    hyper: dict[str, Any] = field(default_factory=dict)
    data_dir: str | None = None

    def __post_init__(self) -> None:
        strategy_class(self.strategy)
        if self.budget_seconds is None and self.budget_queries is None:
            raise ValueError("give a budget: --budget-seconds or --budget-queries")
        if self.runs <= 0:
            raise ValueError(f"runs must be positive, got {self.runs}")

    def identity(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("runs", "data_dir"):
            d.pop(key)
        return d


def load_embeddings(path: str | Path, space: spaces.SearchSpace) -> np.ndarray:
    """``(num_cells, d)`` embeddings by pool index from a run dir (its ``embeddings.npz``,
    computed if missing) or an ``.npz`` written by ``arch2vec embed``."""
    path = Path(path)
    npz = path / "embeddings.npz" if path.is_dir() else path
    if not npz.is_file():
        if not path.is_dir():
            raise ValueError(f"{path}: no such embeddings file or run directory")
        from arch2vec.models.train import read_config, save_embeddings

        run_space = read_config(path).space
        if run_space != space.name:
            raise ValueError(f"{path}: embeddings of {run_space}, not {space.name}")
        return save_embeddings(path, npz)[1]
    meta, arrays = io.load_arrays(npz)
    if meta.get("space") != space.name or len(arrays["embeddings"]) != len(space.all()):
        raise ValueError(f"{npz}: embeddings of {meta.get('space')}, not of the {space.name} pool")
    return arrays["embeddings"].astype(np.float32)


_STATE: dict[str, Any] = {}


def _setup(config: ExperimentConfig) -> None:
    """Load space, benchmark and features once per worker process."""
    import torch

    torch.set_num_threads(1)
    bench = benchmarks.load(config.benchmark, config.dataset, config.file, config.data_dir)
    space = spaces.get(bench.space, data_dir=config.data_dir)
    cls = strategy_class(config.strategy)
    features = None
    if cls.needs_features:
        if not config.embeddings:
            raise ValueError(f"strategy {config.strategy} needs --embeddings (a pre-training run)")
        features = load_embeddings(config.embeddings, space)
    problem = SearchProblem(
        space=space, cells=space.all(), candidates=bench.pool, features=features
    )
    _STATE.update(config=config, bench=bench, problem=problem, cls=cls)


def _one_run(run_index: int) -> dict[str, Any]:
    config = _STATE["config"]
    seed = config.seed + run_index
    hyper = dict(config.hyper)
    if config.strategy == "bohb":
        hyper["benchmark"] = _STATE["bench"]
    strategy = _STATE["cls"](_STATE["problem"], np.random.default_rng(seed), **hyper)
    trace = run(strategy, _STATE["bench"], seed, config.budget_seconds, config.budget_queries)
    return {"run": run_index, **trace.to_dict()}


class _RunTask:
    """One run as an executor task (Ray): sets its worker process up for ``config`` once."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config

    def __call__(self, run_index: int) -> dict[str, Any]:
        if _STATE.get("config") != self.config:
            _setup(self.config)
        return _one_run(run_index)


def _read_runs(path: Path) -> dict[int, dict[str, Any]]:
    done = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill; that run is redone
            done[int(row["run"])] = row
    return done


def summarise(rows: list[dict[str, Any]], config: ExperimentConfig, bench, wall: float):
    def final(key: str) -> np.ndarray:
        return np.array(
            [r[key][-1] if r[key] and r[key][-1] is not None else np.nan for r in rows],
            dtype=np.float64,
        )

    def stat(a: np.ndarray, fn) -> float | None:
        return None if np.isnan(a).all() else round(float(fn(a)), 4)

    valid, test, best = final("best_valid"), final("best_test"), final("best_reward")
    regret = bench.best_valid - valid if not np.isnan(valid).all() else bench.best_search - best
    return {
        "strategy": config.strategy,
        "benchmark": config.benchmark,
        "dataset": bench.dataset,
        "runs": len(rows),
        "search_accuracy_mean": stat(best, np.nanmean),
        "valid_accuracy_mean": stat(valid, np.nanmean),
        "valid_accuracy_std": stat(valid, np.nanstd),
        "test_accuracy_mean": stat(test, np.nanmean),
        "test_accuracy_std": stat(test, np.nanstd),
        "queries_mean": round(float(np.mean([len(r["index"]) for r in rows])), 2),
        "final_regret_mean": stat(regret, np.nanmean),
        "final_test_regret_mean": stat(bench.best_test - test, np.nanmean),
        "wall_seconds": round(wall, 2),
        "arch2vec": __version__,
    }


def _run_on_ray(
    config: ExperimentConfig,
    todo: list[int],
    address: str | None,
    record: Callable[[dict[str, Any]], None],
) -> None:
    """Runs ``todo`` as Ray tasks, each recorded as it finishes; a run that keeps failing
    raises (after the others have finished and been recorded)."""
    from arch2vec.search.executor import Failure, RayExecutor

    ray_executor = RayExecutor(address=address)
    failed: list[str] = []

    def finished(pos: int, row: Any) -> None:
        if isinstance(row, Failure):
            failed.append(f"run {todo[pos]}: {row.error}")
        else:
            record(row)

    try:
        ray_executor.map(_RunTask(config), todo, on_result=finished)
    finally:
        ray_executor.shutdown()
    if failed:
        raise RuntimeError(f"{len(failed)} run(s) failed; first: {failed[0]}")


def run_experiment(
    config: ExperimentConfig,
    out_dir: str | Path,
    workers: int | None = None,
    resume: bool = False,
    progress: bool = True,
    on_run: Callable[[dict[str, Any]], None] | None = None,
    executor: str = "local",
    address: str | None = None,
) -> dict[str, Any]:
    """Run ``config.runs`` seeded runs (skipping finished ones when resuming); return the
    summary.

    ``executor="local"`` runs them in ``workers`` local processes; ``"ray"`` sends each run as a
    Ray task to the cluster at ``address`` (None: a local Ray instance), where ``workers`` is not
    used. Either way runs are recorded as they finish and the results are the same.
    """
    if executor not in ("local", "ray"):
        raise ValueError(f"unknown executor {executor!r}; expected 'local' or 'ray'")
    if executor == "local" and address is not None:
        raise ValueError("an address is only for the ray executor")
    out_dir = Path(out_dir)
    runs_path = out_dir / "runs.jsonl"
    if (out_dir / "config.json").is_file():
        if not resume:
            raise ValueError(f"{out_dir}: already holds an experiment; pass --resume to continue")
        saved = json.loads((out_dir / "config.json").read_text())["config"]
        if ExperimentConfig(**saved).identity() != config.identity():
            raise ValueError(
                f"{out_dir}: cannot resume, the experiment was made with other settings"
            )
    _setup(config)  # a bad benchmark, file or embeddings fails here, before anything is written
    io.atomic_write_json(
        out_dir / "config.json", {"config": asdict(config), "arch2vec": __version__}
    )
    done = {k: v for k, v in _read_runs(runs_path).items() if k < config.runs}
    if runs_path.is_file():  # rewrite without a cut last line before appending
        io.atomic_write_text(runs_path, "".join(json.dumps(done[k]) + "\n" for k in sorted(done)))
    todo = [r for r in range(config.runs) if r not in done]
    start = time.perf_counter()
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=config.runs, initial=len(done), unit="run", desc=config.strategy, disable=None
        )

    def record(row: dict[str, Any]) -> None:
        with runs_path.open("a") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())
        done[row["run"]] = row
        if bar is not None:
            bar.update(1)
        if on_run is not None:
            on_run(row)

    if todo and executor == "ray":
        _run_on_ray(config, todo, address, record)
    elif todo and workers == 1:
        for r in todo:
            record(_one_run(r))
    elif todo:
        import multiprocessing

        # one BLAS thread per worker: the workers already use every core
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_setup, initargs=(config,)
        ) as pool:
            futures = [pool.submit(_one_run, r) for r in todo]
            for future in as_completed(futures):
                record(future.result())
    if bar is not None:
        bar.close()
    bench = _STATE["bench"]
    rows = [done[k] for k in sorted(done)]
    summary = summarise(rows, config, bench, time.perf_counter() - start)
    io.atomic_write_json(out_dir / "summary.json", summary)
    return summary
