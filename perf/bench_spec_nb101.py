"""NAS-Bench-101 written as a spec (``spaces.example_spec("nb101")``, shipped with arch2vec):
enumerate it and compare its hashes with the built-in space's.

Usage: ``python perf/bench_spec_nb101.py [--data-dir DIR]``. Enumerates the spec space from
scratch (a fresh cache) and, in the same run, the built-in ``nb101`` space (its own enumerator);
prints the cell counts, whether the two sets of 423,624 official hashes are equal, both times and
their ratio, and MD5 calls per second measured here (the hash is MD5-bound).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from reference import md5_per_second

from arch2vec import __version__, spaces

SPEC = spaces.example_spec("nb101")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="where to enumerate (default: a temporary folder)")
    args = parser.parse_args()
    md5_rate = md5_per_second()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or tmp
        start = time.perf_counter()
        spec = spaces.get(str(SPEC), data_dir=data_dir)
        spec.build(rebuild=True)
        spec_s = time.perf_counter() - start
        start = time.perf_counter()
        builtin = spaces.get("nb101", data_dir=data_dir)
        builtin.build(rebuild=True)
        builtin_s = time.perf_counter() - start
        same = set(spec.hashes().tolist()) == set(builtin.hashes().tolist())
    print(
        json.dumps(
            {
                "bench": "spec_nb101",
                "spec_cells": len(spec.all()),
                "builtin_cells": len(builtin.all()),
                "same_hash_set": same,
                "spec_enumerate_s": round(spec_s, 2),
                "builtin_enumerate_s": round(builtin_s, 2),
                "ratio_spec_to_builtin": round(spec_s / builtin_s, 2),
                "md5_calls_per_s": round((md5_rate + md5_per_second()) / 2),
                "arch2vec": __version__,
            }
        )
    )


if __name__ == "__main__":
    main()
