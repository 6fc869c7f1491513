"""Training throughput of the arch2vec autoencoder, against this machine's own sgemm speed.

Usage: ``python perf/bench_pretrain.py [--space nb101] [--seconds 10]
[--configs 32x1 256x1 256x2] [--data-dir DIR] [--evaluate RUN_DIR]``.

For each ``BATCHxTHREADS`` it runs full training steps (forward, loss, backward, Adam) of the
space's default model on shuffled cells for ``--seconds`` after a warm-up, and prints one JSON
line: cells/s; the model's GFLOP/s (the matrix-multiply FLOPs of one step, forward and
backward, counted by ``torch.utils.flop_counter``); the same-run reference, float32 GEMM
GFLOP/s of ``torch.mm`` on 1024 x 1024 matrices at the same thread count, measured right before
and after; and the ratio of the two. Machines differ 3-4x in per-call Python speed while their
GEMM speed is similar, so compare ratios, not cells/s, between machines (BENCHMARKS.md).
With ``--evaluate`` it also times ``arch2vec evaluate`` (10,000 prior samples) on a finished run.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from arch2vec import __version__, spaces
from arch2vec.models.train import PretrainConfig, build_model
from arch2vec.models.vgae import cell_tensors


def sgemm_gflops(threads: int, seconds: float = 1.0, size: int = 1024) -> float:
    """float32 GEMM speed of this machine at ``threads`` threads (the reference figure)."""
    torch.set_num_threads(threads)
    a = torch.randn(size, size, generator=torch.Generator().manual_seed(0))
    a @ a
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ a
        n += 1
    return 2 * size**3 * n / (time.perf_counter() - start) / 1e9


def step_flops(model, opt, data, batch: int, beta: float) -> int:
    """Matrix-multiply FLOPs of one training step (forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode

    b = torch.arange(batch)
    counter = FlopCounterMode(display=False)
    with counter:
        out = model(data["ops"][b], data["adj"][b])
        loss, _ = model.loss(*out, data["op_target"][b], data["adj_target"][b], beta)
        loss.backward()
    opt.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def throughput(data, space, space_name: str, batch: int, threads: int, seconds: float):
    torch.set_num_threads(threads)
    config = PretrainConfig(space=space_name, batch_size=batch, threads=threads)
    model = build_model(config, space)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    flops = step_flops(model, opt, data, batch, config.beta)
    n = len(data["ops"])
    order = torch.from_numpy(np.random.default_rng(0).permutation(n))
    cells, start, step = 0, None, 0
    while True:
        first = (step * batch) % max(n - batch, 1)
        b = order[first : first + batch]
        out = model(data["ops"][b], data["adj"][b])
        loss, _ = model.loss(*out, data["op_target"][b], data["adj_target"][b], config.beta)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step == 20:
            start = time.perf_counter()
        elif start is not None:
            cells += len(b)
            if time.perf_counter() - start > seconds:
                rate = cells / (time.perf_counter() - start)
                return rate, flops / batch * rate / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="nb101", help="nb101 (default), nb201 or darts")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--configs", nargs="+", default=["32x1", "256x1", "256x2"])
    parser.add_argument("--data-dir", help="where the space cache is")
    parser.add_argument("--evaluate", metavar="RUN_DIR")
    args = parser.parse_args()
    space = spaces.get(args.space, data_dir=args.data_dir)
    data = cell_tensors(space.all(), len(space.ops))
    for item in args.configs:
        batch, threads = (int(x) for x in item.split("x"))
        before = sgemm_gflops(threads)
        rate, gflops = throughput(data, space, args.space, batch, threads, args.seconds)
        reference = (before + sgemm_gflops(threads)) / 2
        print(
            json.dumps(
                {
                    "bench": "pretrain_throughput",
                    "space": args.space,
                    "batch_size": batch,
                    "threads": threads,
                    "cells_per_second": round(rate),
                    "model_gflops": round(gflops, 1),
                    "reference_sgemm_gflops": round(reference, 1),
                    "ratio_to_sgemm": round(gflops / reference, 3),
                    "cpus": os.cpu_count(),
                    "torch": torch.__version__,
                    "arch2vec": __version__,
                }
            ),
            flush=True,
        )
    if args.evaluate:
        from arch2vec.models.run import evaluate_run

        start = time.perf_counter()
        result = evaluate_run(args.evaluate)
        seconds = time.perf_counter() - start
        print(
            json.dumps(
                {
                    "bench": "evaluate",
                    "seconds": round(seconds, 2),
                    "reference_sgemm_gflops": round(sgemm_gflops(1), 1),
                    **result,
                }
            )
        )


if __name__ == "__main__":
    main()
