"""Speed on a shared CPU: the default thread counts against one thread and against the previous
defaults, on a quiet machine and with two busy processes competing for the cores (issue 19).

Usage::

    python perf/bench_threads.py [--epochs 2] [--repeats 2] [--runs 2] [--load 2]

Measured, each ``--repeats`` times (the median is reported), alternating the settings so that
they see the same machine:

* ``pretrain``: ``arch2vec pretrain --space nb201 --epochs E`` as a command (a fresh process, as
  ``make demo`` runs it) with the default threads, with ``--threads 1``, with ``--threads 2``
  (the previous default for NB-201's batch of 128) and with ``--threads 2`` waiting passively
  (``OMP_WAIT_POLICY=PASSIVE``);
* ``search``: ``arch2vec.search.run("arch2vec-bo", ...)`` in this process (``workers=1``) on the
  embedded NB-201 table, ``--runs`` runs of 100 queries, embeddings a fixed random projection of
  the flat encoding: with the library's default, and with two BLAS threads (what NumPy's
  OpenBLAS used before the library set a count: one per core).

first on a quiet machine, then with ``--load`` busy processes (``while True: pass``) started by
this script. The reference, measured in the same run on the quiet machine: float32 GEMM
GFLOP/s of torch on one thread. Prints one JSON line per phase and a summary line with the
goals: default <= 1.3 x one thread under load, and quiet default within 10 % of the previous
default.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference import sgemm_gflops  # noqa: E402

ARCH2VEC = [sys.executable, "-m", "arch2vec.cli"]


def pretrain_seconds(
    threads: int | None, epochs: int, data_dir: str, env: dict[str, str] | None = None
) -> float:
    with tempfile.TemporaryDirectory() as out:
        argv = [*ARCH2VEC, "pretrain", "--space", "nb201", "--epochs", str(epochs), "-q"]
        argv += ["--out", str(Path(out) / "run"), "--data-dir", data_dir]
        if threads is not None:
            argv += ["--threads", str(threads)]
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env={**os.environ, **(env or {})})
        return time.perf_counter() - start


def search_seconds(blas_threads: int | None, runs: int) -> float:
    import numpy as np

    from arch2vec import benchmarks, search, spaces, threads
    from arch2vec.analysis.predictive import flat_encoding

    space = spaces.get("nb201")
    flat = flat_encoding(space.all(), len(space.ops))
    features = flat @ np.random.default_rng(0).normal(size=(flat.shape[1], 16))
    bench = benchmarks.load("nb201", "cifar10")
    default = threads.DEFAULT
    if blas_threads is not None:
        threads.DEFAULT = blas_threads  # what the library's runs in this process get
    try:
        start = time.perf_counter()
        search.run(
            "arch2vec-bo", bench, embeddings=features.astype(np.float32), runs=runs,
            budget_queries=100, workers=1,
        )  # fmt: skip
        return time.perf_counter() - start
    finally:
        threads.DEFAULT = default


def busy(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def measure(args: argparse.Namespace, data_dir: str) -> dict[str, float]:
    settings = {
        "pretrain_default": lambda: pretrain_seconds(None, args.epochs, data_dir),
        "pretrain_1_thread": lambda: pretrain_seconds(1, args.epochs, data_dir),
        "pretrain_2_threads": lambda: pretrain_seconds(2, args.epochs, data_dir),
        "pretrain_2_threads_passive": lambda: pretrain_seconds(
            2, args.epochs, data_dir, {"OMP_WAIT_POLICY": "PASSIVE"}
        ),
        "search_default": lambda: search_seconds(None, args.runs),
        "search_2_blas_threads": lambda: search_seconds(2, args.runs),
    }
    times: dict[str, list[float]] = {k: [] for k in settings}
    for _ in range(args.repeats):
        for name, fn in settings.items():
            times[name].append(fn())
    return {k: round(statistics.median(v), 2) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--runs", type=int, default=2, help="arch2vec-BO runs per search")
    ap.add_argument("--load", type=int, default=2, help="busy processes under load")
    args = ap.parse_args()
    gflops = sgemm_gflops(threads=1)
    with tempfile.TemporaryDirectory() as data_dir:
        pretrain_seconds(1, 1, data_dir)  # the space's caches, and a warm disk
        search_seconds(None, 1)
        quiet = measure(args, data_dir)
        print(json.dumps({"phase": "quiet", "cores": os.cpu_count(), **quiet}), flush=True)
        procs = busy(args.load)
        try:
            time.sleep(1.0)
            loaded = measure(args, data_dir)
        finally:
            for p in procs:
                p.kill()
        print(json.dumps({"phase": f"{args.load} busy processes", **loaded}), flush=True)
    ratios = {  # name -> (phase, numerator, denominator)
        "loaded_pretrain_default_over_1_thread": (loaded, "pretrain_default", "pretrain_1_thread"),
        "loaded_pretrain_previous_default_over_1_thread": (
            loaded,
            "pretrain_2_threads",
            "pretrain_1_thread",
        ),
        "quiet_pretrain_default_over_previous_default": (
            quiet,
            "pretrain_default",
            "pretrain_2_threads",
        ),
        "loaded_search_previous_over_default": (loaded, "search_2_blas_threads", "search_default"),
        "quiet_search_default_over_previous": (quiet, "search_default", "search_2_blas_threads"),
        "passive_2_threads_over_1_thread_quiet": (
            quiet,
            "pretrain_2_threads_passive",
            "pretrain_1_thread",
        ),
        "passive_2_threads_over_1_thread_loaded": (
            loaded,
            "pretrain_2_threads_passive",
            "pretrain_1_thread",
        ),
    }
    summary = {"reference_sgemm_gflops_1_thread": round(gflops, 1)}
    summary.update({k: round(p[a] / p[b], 2) for k, (p, a, b) in ratios.items()})
    summary["quiet_pretrain_default_seconds_x_gflops"] = round(quiet["pretrain_default"] * gflops)
    summary["goal_loaded_default_le_1.3x_one_thread"] = (
        summary["loaded_pretrain_default_over_1_thread"] <= 1.3
    )
    summary["goal_quiet_default_within_10pct_of_previous"] = (
        summary["quiet_pretrain_default_over_previous_default"] <= 1.10
    )
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
