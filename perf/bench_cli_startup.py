"""How long the user waits for light commands: ``arch2vec --help`` and friends, end to end.

Usage: ``python perf/bench_cli_startup.py [--repeats 7]``. Each command runs in a fresh
process ``--repeats`` times; the median wall time is printed beside two references measured in
the same run -- the bare interpreter (``python -c pass``) and ``python -c "import numpy"`` -- and
the ratio to the bare interpreter, so the figure can be compared across machines whose per-call
Python speed differs. Goal: ``arch2vec --help`` under 0.5 s.

``--compare-src DIR`` also times the arch2vec commands of another source tree (``DIR`` holds its
``arch2vec`` package, e.g. ``git worktree add /tmp/old d1ebf94`` then ``/tmp/old/src``) in the same
run, on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from arch2vec import __version__

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
    "arch2vec --help": [sys.executable, "-m", "arch2vec.cli", "--help"],
    "arch2vec space info nb201 --json": [
        sys.executable,
        "-m",
        "arch2vec.cli",
        "space",
        "info",
        "nb201",
        "--json",
    ],
    "arch2vec bench list --json": [sys.executable, "-m", "arch2vec.cli", "bench", "list", "--json"],
    "arch2vec search --help": [sys.executable, "-m", "arch2vec.cli", "search", "--help"],
}


def median_seconds(argv: list[str], repeats: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--compare-src", metavar="DIR", help="another tree's src/ to time too")
    args = parser.parse_args()
    seconds = {name: median_seconds(argv, args.repeats) for name, argv in COMMANDS.items()}
    if args.compare_src:
        env = {**os.environ, "PYTHONPATH": args.compare_src}
        for name, argv in COMMANDS.items():
            if name.startswith("arch2vec"):
                seconds[f"{name} [{args.compare_src}]"] = median_seconds(argv, args.repeats, env)
    bare = seconds["python -c pass"]
    for name, s in seconds.items():
        print(
            json.dumps(
                {
                    "bench": "cli_startup",
                    "command": name,
                    "median_s": round(s, 3),
                    "reference_python_s": round(bare, 3),
                    "ratio_to_python": round(s / bare, 2),
                    "repeats": args.repeats,
                    "arch2vec": __version__,
                }
            )
        )


if __name__ == "__main__":
    main()
