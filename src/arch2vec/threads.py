"""Thread counts, chosen and set in one place for the command line, worker processes and
in-process use alike: torch's intra-op pool and the BLAS / OpenMP pools NumPy and SciPy load.

The default is one thread (:data:`DEFAULT`), measured (``perf/bench_threads.py``,
BENCHMARKS.md "Speed on a shared CPU"): on a quiet 2-core machine two torch threads pre-train
NB-201 only about 10 % faster than one, while with two other busy processes on the cores they
take about twice as long as one (the threads wait on each other for cores that are taken), and
NumPy's OpenBLAS pool of two threads made an in-process arch2vec-BO search ten times slower.
Two alternatives were measured and not taken: OpenMP's passive waiting (``OMP_WAIT_POLICY=
PASSIVE``) costs two threads half their speed on a quiet machine, and sizing the thread count to
the cores free at the start would make a run's result depend on the load (torch's reductions
round differently with another thread count, so one seed would give two results).

:func:`limited` sets a thread count for a block and restores the previous one after; worker
processes of a search start with one thread (:func:`worker_environment`). A larger count is the
caller's explicit choice (``threads=`` of pre-training, ``--threads``), recorded with the run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from arch2vec import checks

DEFAULT = 1
"""Threads for training, embedding and search unless the caller asks for more."""

_ENVIRONMENT = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def limited(threads: int | None = None) -> Iterator[int]:
    """Within the block, torch (if loaded) and every loaded BLAS / OpenMP library use
    ``threads`` threads (default :data:`DEFAULT`; at most the cores this process may use);
    the previous counts come back after it."""
    n = DEFAULT if threads is None else checks.threads(threads)
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None and before != n:
        torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield n
    finally:
        torch = sys.modules.get("torch")
        if torch is not None and before is not None and torch.get_num_threads() != before:
            torch.set_num_threads(before)


def use(threads: int | None = None) -> int:
    """Set torch's intra-op threads to ``threads`` (default :data:`DEFAULT`) for the rest of the
    process (a strategy's own network, a worker process); returns the count."""
    import torch

    n = DEFAULT if threads is None else checks.threads(threads)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def worker_environment() -> None:
    """Before a worker process starts: one BLAS / OpenMP thread unless the user set otherwise
    (the workers already share the cores)."""
    for name in _ENVIRONMENT:
        os.environ.setdefault(name, str(DEFAULT))
