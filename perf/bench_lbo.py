"""Cost of arch2vec-LBO per NB-201 run beside arch2vec-BO's, measured in the same process.

Usage::

    python perf/bench_lbo.py --embeddings RUN [--file nb201_merged.csv] [--runs 20]

``RUN``: an NB-201 pre-training run (``arch2vec pretrain --space nb201``) or an ``embed`` file.
Per dataset (CIFAR-10, CIFAR-100, ImageNet16-120; the paper's protocol: ``nb201-csv`` and its
simulated budgets), seeds 0..runs-1, the two strategies alternate seed by seed on one BLAS
thread, so both see the same machine load. A run's cost is the CPU time of this process
(``time.process_time``: one core) from building the strategy to the end of its search; what a
strategy prepares once per problem is made by the first run and counted there. Prints one JSON
line per dataset and one for the mean over datasets: CPU seconds per run of both, their ratio,
and the single-thread float32 NumPy matrix product speed (GFLOP/s, before and after) as the
machine's reference. Goal (issue 20): arch2vec-LBO <= 5 core-seconds per NB-201 run on average.
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
from reference import numpy_sgemm_gflops  # noqa: E402

DATASETS = ("cifar10", "cifar100", "imagenet16-120")
STRATEGIES = {"arch2vec-bo": {"top_k": 1}, "arch2vec-lbo": {}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--embeddings", required=True, help="NB-201 pre-training run or embed file")
    ap.add_argument("--file", default=str(Path("../shared/data/nb201/nb201_merged.csv")))
    ap.add_argument("--runs", type=int, default=20, help="seeds per dataset (default: 20)")
    args = ap.parse_args()

    import numpy as np

    from arch2vec import evaluators, search, spaces
    from arch2vec.analysis.paper import TABLE3_BUDGETS
    from arch2vec.models.run import load_embeddings
    from arch2vec.search import engine
    from arch2vec.search.budget import Budget

    space = spaces.get("nb201")
    features = load_embeddings(args.embeddings)  # checked against the space by the strategies
    ref_before = numpy_sgemm_gflops()
    lines = []
    for dataset in DATASETS:
        evaluator = evaluators.from_benchmark("nb201-csv", dataset, args.file)
        pool = evaluator.benchmark.pool
        cost = {name: [] for name in STRATEGIES}
        best = {name: [] for name in STRATEGIES}
        for seed in range(args.runs):
            for name, params in STRATEGIES.items():
                cls = search.get(name)
                extra = {"fidelities": evaluator.fidelities} if name == "arch2vec-lbo" else {}
                start = time.process_time()
                strategy = cls(
                    space, embeddings=features, candidates=pool, seed=seed, **params, **extra
                )
                trace = engine.run(strategy, evaluator, Budget(TABLE3_BUDGETS[dataset]), seed=seed)
                cost[name].append(time.process_time() - start)
                best[name].append(trace.best_valid[-1])
        line = {
            "dataset": dataset,
            "runs": args.runs,
            **{f"{n} core-s per run": round(float(np.mean(c)), 3) for n, c in cost.items()},
            "ratio lbo / bo": round(
                float(np.mean(cost["arch2vec-lbo"]) / np.mean(cost["arch2vec-bo"])), 3
            ),
            **{f"{n} valid": round(float(np.mean(b)), 3) for n, b in best.items()},
        }
        lines.append(line)
        print(json.dumps(line), flush=True)
    ref_after = numpy_sgemm_gflops()
    mean = {
        n: round(float(np.mean([line[f"{n} core-s per run"] for line in lines])), 3)
        for n in STRATEGIES
    }
    print(
        json.dumps(
            {
                "dataset": "mean of the three",
                **{f"{n} core-s per run": v for n, v in mean.items()},
                "ratio lbo / bo": round(mean["arch2vec-lbo"] / mean["arch2vec-bo"], 3),
                "numpy sgemm GFLOP/s (1 thread) before, after": [
                    round(ref_before, 1),
                    round(ref_after, 1),
                ],
                "goal": "arch2vec-lbo <= 5 core-s per run",
            }
        )
    )


if __name__ == "__main__":
    main()
