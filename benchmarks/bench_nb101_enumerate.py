"""Time the NAS-Bench-101 enumeration and its cache; print one JSON line.

Usage: ``python benchmarks/bench_nb101_enumerate.py [--workers W]``. Enumerates all 423,624 cells
with their official hashes into a fresh temporary data directory (``build_s``, the <= 30 s
target), then loads the cache back (``load_s``). Peak memory is the resident-set high-water mark
of this process and of the largest hashing worker process (they run at the same time, so their
sum bounds the machine-wide peak).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time

from arch2vec import __version__
from arch2vec.spaces.nb101 import NB101Space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="hashing processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        cells = NB101Space(data_dir=tmp).build(rebuild=True, workers=args.workers)
        build_s = time.perf_counter() - start
        size = os.path.getsize(os.path.join(tmp, "nb101_cells.npz"))
        start = time.perf_counter()
        NB101Space(data_dir=tmp).build()
        load_s = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "bench": "nb101_enumerate",
                "cells": len(cells),
                "build_s": round(build_s, 2),
                "load_s": round(load_s, 3),
                "cache_mib": round(size / 2**20, 1),
                "peak_rss_main_mib": round(own),
                "peak_rss_worker_mib": round(child),
                "workers": args.workers or os.cpu_count(),
                "cpus": os.cpu_count(),
                "machine": platform.machine(),
                "arch2vec": __version__,
            }
        )
    )


if __name__ == "__main__":
    main()
