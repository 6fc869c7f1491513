"""Benchmark search speed: many seeded runs of one strategy through ``arch2vec.search.run``.

Usage::

    python benchmarks/bench_search.py --embeddings RUN_DIR [--strategy arch2vec-bo] [--runs 500]
        [--workers 2] [--file nb201_merged.csv] [--dataset cifar10] [--budget-seconds 12000]

With ``--file`` the NB-201 paper protocol (``nb201-csv``: 12-epoch reward, 1.2e4 s on CIFAR-10);
without it the embedded NB-201 benchmark with a 100-query budget. ``RUN_DIR`` is a NB-201
pre-training run (``arch2vec pretrain --space nb201``). Prints one JSON line: wall seconds for all
runs, seconds per run, mean queries per run and the final validation accuracy.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from arch2vec import __version__, benchmarks, search


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
    bench = benchmarks.load(name, args.dataset, args.file)
    with tempfile.TemporaryDirectory() as out:
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
    print(
        json.dumps(
            {
                "bench": "search",
                "strategy": args.strategy,
                "benchmark": name,
                "runs": args.runs,
                "workers": args.workers,
                "wall_s": round(wall, 1),
                "cpu_s_per_run": round(wall * args.workers / args.runs, 3),
                "queries_mean": summary["queries_mean"],
                "valid_accuracy_mean": summary["valid_accuracy_mean"],
                "arch2vec": __version__,
            }
        )
    )


if __name__ == "__main__":  # spawned workers import this file without running main
    main()
