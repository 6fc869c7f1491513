"""Benchmark search speed: many seeded runs of one strategy through ``arch2vec.search.run``.

Usage::

    python perf/bench_search.py --embeddings RUN_DIR [--strategy arch2vec-bo] [--runs 500]
        [--workers 2] [--file nb201_merged.csv] [--dataset cifar10] [--budget-seconds 12000]

With ``--file`` the NB-201 paper protocol (``nb201-csv``: 12-epoch reward, 1.2e4 s on CIFAR-10);
without it the embedded NB-201 benchmark with a 100-query budget. ``RUN_DIR`` is a NB-201
pre-training run (``arch2vec pretrain --space nb201``). Prints one JSON line: wall seconds for all
runs, core-seconds per run (the CPU time of this process and its workers, from ``getrusage``),
mean queries per run and the final validation accuracy, and two same-run references: NumPy's
single-thread sgemm GFLOP/s (the surrogates' matrix products) and calls per second of a small
Python function (the per-query Python work).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the reference product on one thread
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import numpy_sgemm_gflops, python_calls_per_second  # noqa: E402

from arch2vec import __version__, benchmarks, search  # noqa: E402


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings", required=True, help="NB-201 pre-training run dir")
    parser.add_argument("--strategy", default="arch2vec-bo")
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--file", default=None, help="merged NB-201 CSV (paper protocol)")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--budget-seconds", type=float, default=1.2e4)
    args = parser.parse_args()
    paper = args.file is not None
    name = "nb201-csv" if paper else "nb201"
    gflops, calls = numpy_sgemm_gflops(), python_calls_per_second()
    bench = benchmarks.load(name, args.dataset, args.file)
    with tempfile.TemporaryDirectory() as out:
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        summary = search.run(
            args.strategy,
            bench,
            embeddings=args.embeddings,
            runs=args.runs,
            budget_seconds=args.budget_seconds if paper else None,
            budget_queries=None if paper else 100,
            out_dir=out,
            workers=args.workers,
        ).summary
        wall = time.perf_counter() - start
        cpu = cpu_seconds() - cpu_start
    print(
        json.dumps(
            {
                "bench": "search",
                "strategy": args.strategy,
                "benchmark": name,
                "runs": args.runs,
                "workers": args.workers,
                "wall_s": round(wall, 1),
                "core_s_per_run": round(cpu / args.runs, 3),
                "queries_mean": summary["queries_mean"],
                "valid_accuracy_mean": summary["valid_accuracy_mean"],
                "reference_sgemm_gflops": round(gflops, 1),
                "reference_python_calls_per_s": round(calls),
                "arch2vec": __version__,
            }
        )
    )


if __name__ == "__main__":  # spawned workers import this file without running main
    main()
