"""Ranges of numeric parameters, checked up front by the library's public calls (so the Python API
and the command line give the same one-line error, naming the parameter and the value).

Every numeric parameter of a public call has a range; the common ones live here:

========================  ================================================================
``seed``                  an integer in 0..2**32 - 1
``threads``               an integer in 1..the cores this process may run on
``workers``               an integer in 1..1024 (processes)
``runs``                  an integer in 1..1,000,000
``samples`` (prior)       an integer in 1..1,000,000 (decoded samples of Table 1)
``epochs``                an integer in 1..100,000
``batch_size``            an integer in 1..1,000,000
cell counts               an integer in 1 (or 2)..10,000,000 (training sizes, walks, maps)
``seeds`` (repetitions)   an integer in 1..10,000
========================  ================================================================
"""

from __future__ import annotations

import math
import os
from typing import Any

SEED_MAX = 2**32 - 1
MAX_WORKERS = 1024
MAX_RUNS = 1_000_000
MAX_PRIOR_SAMPLES = 1_000_000
MAX_EPOCHS = 100_000
MAX_BATCH = 1_000_000
MAX_CELLS = 10_000_000
"""Counts of cells (training sizes, walks): above any pool's size (at most 5,000,000)."""
MAX_SEEDS = 10_000
"""Repetitions of an analysis over seeds."""


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def integer(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    """``value`` as an int in ``lo..hi``; else ``ValueError`` naming ``name`` and the value."""
    if isinstance(value, bool) or not isinstance(value, int) and not _is_np_int(value):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        wanted = f"in {lo:,}..{hi:,}" if hi is not None else f"at least {lo:,}"
        raise ValueError(f"{name} must be an integer {wanted}, got {value}")
    return value


def number(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """``value`` as a finite float within the bounds (``lo_open``/``hi_open``: excluded);
    else ``ValueError`` naming ``name`` and the value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not _is_np_num(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    below = lo is not None and (value <= lo if lo_open else value < lo)
    above = hi is not None and (value >= hi if hi_open else value > hi)
    if not math.isfinite(value) or below or above:
        left = "" if lo is None else ("(" if lo_open else "[") + f"{lo:g}"
        right = "" if hi is None else f"{hi:g}" + (")" if hi_open else "]")
        wanted = (
            f"in {left}, {right}"
            if lo is not None and hi is not None
            else f"{'>' if lo_open else '>='} {lo:g}"
            if lo is not None
            else f"{'<' if hi_open else '<='} {hi:g}"
            if hi is not None
            else ""
        )
        raise ValueError(f"{name} must be a finite number {wanted}, got {value!r}")
    return value


def seed(value: Any, name: str = "seed") -> int:
    return integer(name, value, 0, SEED_MAX)


def threads(value: Any, name: str = "threads") -> int:
    return integer(name, value, 1, cores())


def workers(value: Any, name: str = "workers") -> int:
    return integer(name, value, 1, MAX_WORKERS)


def _is_np_int(value: Any) -> bool:
    import numpy as np

    return isinstance(value, np.integer)


def _is_np_num(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (np.integer, np.floating))
