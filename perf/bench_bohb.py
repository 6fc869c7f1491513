"""BOHB on a sampled pool with and without projecting TPE samples onto the pool, one process.

Usage::

    python perf/bench_bohb.py [--file ../shared/data/nb101] [--runs 3] [--budget 2e5]

On ``nb101-30k`` (30,001 labelled cells of the 423,624: almost every TPE sample decodes to a
cell outside the pool) seeds 0..runs-1 run with ``project=True`` (the default: a sample outside
the pool is mapped onto its nearest unvisited candidate) and ``project=False`` (the behaviour
before: re-ask up to ``max_tries`` times, then a random cell), alternating seed by seed on one
BLAS thread with a simulated budget of ``--budget`` seconds. Prints one JSON line per setting
(CPU seconds per run, TPE trials asked per evaluated cell, the best validation accuracy found,
the share of proposals that were TPE's own, projected or not), their cost ratio, and the
machine's reference (single-thread Python calls per second, before and after): the cost is
Optuna's per-trial Python work.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ONE_THREAD = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
os.environ.update(ONE_THREAD)  # before NumPy loads
sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference import python_calls_per_second  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", default=str(Path("../shared/data/nb101")))
    ap.add_argument("--runs", type=int, default=3, help="seeds per setting (default: 3)")
    ap.add_argument("--budget", type=float, default=2e5, help="simulated seconds (default: 2e5)")
    args = ap.parse_args()

    import numpy as np

    from arch2vec import evaluators, search, spaces
    from arch2vec.search import engine
    from arch2vec.search.budget import Budget

    evaluator = evaluators.from_benchmark("nb101-30k", None, args.file)
    space = spaces.get("nb101")
    pool = evaluator.candidates(len(space.all()))
    ref_before = python_calls_per_second()
    out = {True: [], False: []}
    for seed in range(args.runs):
        for project in (True, False):
            start = time.process_time()
            strategy = search.get("bohb")(
                space,
                candidates=pool,
                seed=seed,
                fidelities=evaluator.fidelities,
                project=project,
            )
            trace = engine.run(strategy, evaluator, Budget(args.budget), seed=seed)
            out[project].append(
                {
                    "seconds": time.process_time() - start,
                    "trials": len(strategy.study.trials),
                    "cells": len(strategy.seen),
                    "valid": trace.best_valid[-1],
                    "projected": strategy.projected,
                }
            )
    ref_after = python_calls_per_second()
    lines = {}
    for project, rows in out.items():
        cells = sum(r["cells"] for r in rows)
        lines[project] = {
            "project": project,
            "runs": args.runs,
            "core-s per run": round(float(np.mean([r["seconds"] for r in rows])), 2),
            "TPE trials per cell evaluated": round(sum(r["trials"] for r in rows) / cells, 2),
            "cells evaluated per run": round(cells / len(rows), 1),
            "best valid (mean)": round(float(np.mean([r["valid"] for r in rows])), 3),
            "projected per run": round(float(np.mean([r["projected"] for r in rows])), 1),
        }
        print(json.dumps(lines[project]), flush=True)
    ratio = lines[False]["core-s per run"] / lines[True]["core-s per run"]
    per_cell = (
        lines[False]["core-s per run"]
        / lines[False]["cells evaluated per run"]
        / (lines[True]["core-s per run"] / lines[True]["cells evaluated per run"])
    )
    print(
        json.dumps(
            {
                "cost per run, without / with projection": round(ratio, 2),
                "cost per cell evaluated, without / with": round(per_cell, 2),
                "M python calls/s (1 thread) before, after": [
                    round(ref_before / 1e6, 2),
                    round(ref_after / 1e6, 2),
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
