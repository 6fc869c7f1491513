"""Benchmark arch2vec-BO per run against a baseline implementation, in the same session.

Usage::

    git worktree add --detach /tmp/a2v-old <commit>    # the implementation to compare with
    python perf/bench_bo.py --baseline-src /tmp/a2v-old/src \\
        [--setups nb201,darts] [--nb201-runs 100] [--darts-runs 10] [--chunks 5] \\
        [--max-scored 100000] [--nb201-file ../shared/data/nb201/nb201_merged.csv] \\
        [--nb301-dir ../shared/data/nb301]
    git worktree remove --force /tmp/a2v-old

Setups (``top_k`` 1, seeds 0, 1, ...):

- ``nb201``: NAS-Bench-201 CIFAR-10 with the paper's protocol (``nb201-csv``, 12-epoch reward,
  1.2e4 simulated seconds: about 98 queries per run), 15,625 candidates;
- ``darts``: the 600,000-cell DARTS pool with the NAS-Bench-301 surrogate as a table, 100
  queries per run.

The embeddings are a fixed random projection of each cell's flat encoding to 16 dims (as in
``tests/test_pinned_traces.py``), so no pre-trained model is needed. Every run happens in a
worker process with one BLAS/OpenMP thread, once with the code under test (this checkout's
``src``) and once with ``--baseline-src`` on ``PYTHONPATH``; the runs are split into
``--chunks`` chunks and the two implementations alternate chunk by chunk, so both see the same
machine load. A run's cost is the CPU time of its process (``time.process_time``: one core)
from building the strategy to the end of the search; loading the benchmark is not counted (what
a strategy prepares once per problem is: by the first run of each worker for the code under
test, which shares it between runs, by every run for a baseline that does not).

With ``--max-scored M`` the DARTS runs are also made with ``ArchBO(max_scored=M)``, which scores
one part of at most M candidates per iteration instead of all of them (this changes decisions):
an extra line reports it against the same baseline runs.

Prints one JSON line per setup: runs, mean CPU seconds per run for both and their ratio,
the single-thread float32 matrix product speed measured before and after (GFLOP/s of a 1024 x
1024 product: a reference for the machine), the mean best search reward of the runs for both,
and how many runs made the same decisions (the same queries in the same order).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ONE_THREAD = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
REPO = Path(__file__).resolve().parent.parent
os.environ.update(ONE_THREAD)  # before NumPy loads: the reference product on one thread too
sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference import numpy_sgemm_gflops as sgemm_gflops  # noqa: E402


def projection(space):
    """A fixed random projection of the flat (adjacency + one-hot ops) encoding to 16 dims."""
    import numpy as np

    from arch2vec.analysis.predictive import flat_encoding

    flat = flat_encoding(space.all(), len(space.ops))
    w = np.random.default_rng(0).normal(size=(flat.shape[1], 16)).astype(np.float32)
    return (flat @ w).astype(np.float32)


def worker(args: argparse.Namespace) -> None:
    """Run the seeds of one chunk with the ``arch2vec`` on ``sys.path``; print one JSON line."""
    import arch2vec
    from arch2vec import benchmarks, spaces
    from arch2vec.evaluators.table import TableEvaluator
    from arch2vec.search import engine
    from arch2vec.search.bo import ArchBO
    from arch2vec.search.budget import Budget

    if args.setup == "nb201":
        space = spaces.get("nb201")
        bench = benchmarks.load("nb201-csv", "cifar10", args.nb201_file)

        def budget():
            return Budget(seconds=1.2e4)
    else:
        space = spaces.get("darts")
        bench = benchmarks.load("nb301", file=args.nb301_dir)

        def budget():
            return Budget(queries=args.queries)

    features = projection(space)
    evaluator = TableEvaluator(bench)
    params = (
        {"top_k": 1} if args.max_scored is None else {"top_k": 1, "max_scored": args.max_scored}
    )
    runs = []
    for seed in range(args.first, args.first + args.count):
        start = time.process_time()
        strategy = ArchBO(space, embeddings=features, candidates=bench.pool, seed=seed, **params)
        trace = engine.run(strategy, evaluator, budget(), seed=seed)
        seconds = time.process_time() - start
        runs.append(
            {
                "seed": seed,
                "cpu_s": seconds,
                "index": [int(i) for i in trace.index],
                "best_reward": float(trace.best_reward[-1]),
            }
        )
    print(json.dumps({"package": arch2vec.__file__, "runs": runs}))


def run_chunk(
    args: argparse.Namespace, src: str, setup: str, first: int, count: int, max_scored=None
) -> dict:
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": src}
    cmd = [sys.executable, __file__, "--worker", "--setup", setup]
    cmd += ["--first", str(first), "--count", str(count), "--queries", str(args.queries)]
    cmd += ["--nb201-file", args.nb201_file, "--nb301-dir", args.nb301_dir]
    if max_scored is not None:
        cmd += ["--max-scored", str(max_scored)]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if not Path(result["package"]).resolve().is_relative_to(Path(src).resolve()):
        raise SystemExit(f"worker imported {result['package']}, not the package under {src}")
    return result


def summary(setup: str, new: list[dict], old: list[dict], gflops_before: float) -> dict:
    runs = len(new)
    same = sum(a["index"] == b["index"] for a, b in zip(new, old, strict=True))

    def mean(rows: list[dict], key: str) -> float:
        return sum(r[key] for r in rows) / len(rows)

    return {
        "bench": "arch2vec-bo",
        "setup": setup,
        "runs": runs,
        "queries_mean": round(sum(len(r["index"]) for r in new) / runs, 1),
        "s_per_run": round(mean(new, "cpu_s"), 3),
        "baseline_s_per_run": round(mean(old, "cpu_s"), 3),
        "ratio": round(mean(old, "cpu_s") / mean(new, "cpu_s"), 2),
        "sgemm_gflops": round(gflops_before, 1),
        "sgemm_gflops_after": round(sgemm_gflops(), 1),
        "best_reward_mean": round(mean(new, "best_reward"), 4),
        "baseline_best_reward_mean": round(mean(old, "best_reward"), 4),
        "identical_decisions": f"{same}/{runs}",
    }


def measure(args: argparse.Namespace, setup: str, runs: int, gflops_before: float) -> list[dict]:
    """The runs of one setup with both codes (and ``--max-scored`` on DARTS), chunk by chunk
    in alternating order; one summary per code under test."""
    current, baseline = str(REPO / "src"), args.baseline_src
    variant = args.max_scored if setup == "darts" else None
    new, old, sub = [], [], []
    chunks = max(1, min(args.chunks, runs))
    bounds = [round(i * runs / chunks) for i in range(chunks + 1)]
    for i in range(chunks):
        first, count = bounds[i], bounds[i + 1] - bounds[i]
        order = [(current, new, None), (baseline, old, None)]
        if variant is not None:
            order.append((current, sub, variant))
        for src, into, max_scored in order if i % 2 == 0 else order[::-1]:
            into.extend(run_chunk(args, src, setup, first, count, max_scored)["runs"])
    out = [summary(setup, new, old, gflops_before)]
    if variant is not None:
        out.append(summary(f"{setup}-max-scored-{variant}", sub, old, gflops_before))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-src", help="the baseline's src dir (a git worktree's src)")
    parser.add_argument("--setups", default="nb201,darts")
    parser.add_argument("--nb201-runs", type=int, default=100)
    parser.add_argument("--darts-runs", type=int, default=10)
    parser.add_argument("--queries", type=int, default=100, help="DARTS queries per run")
    parser.add_argument("--chunks", type=int, default=5, help="alternations of the two codes")
    parser.add_argument("--max-scored", type=int, help="also DARTS with ArchBO(max_scored=...)")
    parser.add_argument(
        "--nb201-file", default=str(REPO.parent / "shared/data/nb201/nb201_merged.csv")
    )
    parser.add_argument("--nb301-dir", default=str(REPO.parent / "shared/data/nb301"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--setup", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if not args.baseline_src:
        parser.error("--baseline-src is required (e.g. git worktree add --detach DIR HEAD)")
    gflops = sgemm_gflops()
    for setup in args.setups.split(","):
        runs = args.nb201_runs if setup == "nb201" else args.darts_runs
        for line in measure(args, setup, runs, gflops):
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
