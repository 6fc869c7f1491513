"""Same-run references for the benchmark scripts.

Machines here differ 3-4x in per-call Python speed while their GEMM speed is similar, so a
figure alone says little about another machine. Every script measures, in the same run as its
figure, the reference that bounds it, and prints both and their ratio:

* :func:`sgemm_gflops`: float32 GEMM speed of PyTorch (training, anything BLAS-bound), and
  :func:`numpy_sgemm_gflops`, NumPy's (the NumPy surrogates of arch2vec-BO);
* :func:`md5_per_second`: ``hashlib.md5`` calls per second (hashing);
* :func:`python_calls_per_second`: calls of a small Python function per second (per-call Python
  overhead: single lookups, loops of small steps);
* :func:`numpy_sort_per_second`: int64 elements sorted per second by ``np.sort`` (vectorised
  NumPy work bound by memory and one core).
"""

from __future__ import annotations

import hashlib
import itertools
import time

import numpy as np


def _rate(fn, work: float, seconds: float) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return work * count / elapsed


def sgemm_gflops(threads: int = 1, seconds: float = 1.0, size: int = 1024) -> float:
    """float32 GEMM GFLOP/s of ``torch.mm`` on ``size`` x ``size`` matrices at ``threads``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a = torch.randn(size, size, generator=torch.Generator().manual_seed(0))
        return _rate(lambda: a @ a, 2 * size**3 / 1e9, seconds)
    finally:
        torch.set_num_threads(before)


def numpy_sgemm_gflops(seconds: float = 1.0, size: int = 1024) -> float:
    """float32 GEMM GFLOP/s of ``np.matmul`` on ``size`` x ``size`` matrices (NumPy's BLAS, at the
    threads its environment variables allow)."""
    a = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    out = np.empty_like(a)
    return _rate(lambda: np.matmul(a, a, out=out), 2 * size**3 / 1e9, seconds)


def md5_per_second(calls: int = 1_000_000) -> float:
    """``hashlib.md5(message).digest()`` calls per second on a 36-byte message (``['<hex>']``)."""
    message = b"['" + b"0123456789abcdef" * 2 + b"']"
    md5 = hashlib.md5
    start = time.perf_counter()
    for m in itertools.repeat(message, calls):
        md5(m).digest()
    return calls / (time.perf_counter() - start)


def _small(x: int, table: dict[int, int] = {i: i for i in range(64)}) -> int:  # noqa: B006
    return table[x & 63] + 1


def python_calls_per_second(calls: int = 2_000_000) -> float:
    """Calls per second of a small Python function (a dict lookup and an addition)."""
    f = _small
    start = time.perf_counter()
    for i in range(calls):
        f(i)
    return calls / (time.perf_counter() - start)


def numpy_sort_per_second(n: int = 4_000_000, seconds: float = 1.0) -> float:
    """int64 elements per second sorted by ``np.sort`` (one core)."""
    values = np.random.default_rng(0).integers(0, 2**62, size=n)
    return _rate(lambda: np.sort(values), n, seconds)
