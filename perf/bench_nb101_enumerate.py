"""Time the NAS-Bench-101 enumeration and its cache; print one JSON line.

Usage: ``python perf/bench_nb101_enumerate.py [--workers W]``. Enumerates all 423,624 cells
with their official hashes into a fresh temporary data directory (``build_s``), then loads the
cache back (``load_s``). Peak memory is the resident-set high-water mark of this process and of the
largest hashing worker process (they run at the same time, so their sum bounds the machine-wide
peak).

Most of the build is MD5 calls (about 17 million), so its seconds depend on the machine. As a
reference measured in the same run, ``md5_calls_per_s`` times ``hashlib.md5`` on a 36-byte message
(a million calls before the build and a million after, so both see the same conditions), and
``build_md5_calls = build_s * md5_calls_per_s`` is the build's cost in MD5 calls, comparable across
machines: a 15 s build on a machine at 1.3 us per call is 11.5 million.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import resource
import tempfile
import time

from arch2vec import __version__
from arch2vec.spaces.nb101 import NB101Space

REFERENCE_CALLS = 1_000_000  # per half: before and after the build


def md5_seconds(calls: int) -> float:
    """Seconds for ``calls`` ``hashlib.md5(message).digest()`` calls on a 36-byte message."""
    message = b"['" + b"0123456789abcdef" * 2 + b"']"  # "[" + 34 bytes + "]", like ['<hex>']
    md5 = hashlib.md5
    start = time.perf_counter()
    for m in itertools.repeat(message, calls):
        md5(m).digest()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="hashing processes")
    args = parser.parse_args()
    reference_s = md5_seconds(REFERENCE_CALLS)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        cells = NB101Space(data_dir=tmp).build(rebuild=True, workers=args.workers)
        build_s = time.perf_counter() - start
        size = os.path.getsize(os.path.join(tmp, "nb101_cells.npz"))
        start = time.perf_counter()
        NB101Space(data_dir=tmp).build()
        load_s = time.perf_counter() - start
    reference_s += md5_seconds(REFERENCE_CALLS)
    md5_per_s = 2 * REFERENCE_CALLS / reference_s
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "bench": "nb101_enumerate",
                "cells": len(cells),
                "build_s": round(build_s, 2),
                "md5_calls_per_s": round(md5_per_s),
                "md5_us": round(1e6 / md5_per_s, 3),
                "build_md5_calls": round(build_s * md5_per_s),
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
