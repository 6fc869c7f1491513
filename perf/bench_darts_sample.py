"""Time the DARTS pool sampler; print one JSON line (seconds per stage, peak RSS).

Usage: ``PYTHONPATH=src python perf/bench_darts_sample.py [--samples 600000] [--seed 0]``.
``sample_s`` is the sampler alone (the <= 60 s target); the other stages time what ``DartsSpace``
does with the pool: build the DAG ``Cells``, check validity and hash. The work is vectorised NumPy
(sorting and unique keys) and MD5 calls (one per cell), so the same-run references are
``np.sort`` int64 elements per second (``sort_per_s``; ``sample_in_sorts`` = ``sample_s`` x that
rate / pool size: the sampler's cost in sorted elements per cell) and MD5 calls per second
(``hash_in_md5_calls`` = ``hash_s`` x that rate / pool size: MD5 calls per cell, about 1 at best).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

from reference import md5_per_second, numpy_sort_per_second

from arch2vec.spaces.darts import DartsSpace, genotypes_to_cells, sample_genotypes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=600_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    sort_rate = numpy_sort_per_second()
    md5_rate = md5_per_second()
    t0 = time.perf_counter()
    genotypes = sample_genotypes(args.samples, args.seed)
    t1 = time.perf_counter()
    cells = genotypes_to_cells(genotypes)
    t2 = time.perf_counter()
    space = DartsSpace(samples=args.samples, seed=args.seed)
    valid = space.is_valid(cells)
    t3 = time.perf_counter()
    hashes = space.hash(cells)
    t4 = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result = {
        "bench": "darts_sample",
        "samples": args.samples,
        "seed": args.seed,
        "sample_s": round(t1 - t0, 3),
        "to_cells_s": round(t2 - t1, 3),
        "is_valid_s": round(t3 - t2, 3),
        "hash_s": round(t4 - t3, 3),
        "all_valid": bool(valid.all()),
        "distinct_hashes": len(set(hashes.tolist())),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "sort_per_s": round(sort_rate),
        "sample_in_sorts": round((t1 - t0) * sort_rate / args.samples, 1),
        "md5_calls_per_s": round(md5_rate),
        "hash_in_md5_calls": round((t4 - t3) * md5_rate / args.samples, 2),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
