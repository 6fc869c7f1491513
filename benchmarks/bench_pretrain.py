"""Training throughput of the arch2vec autoencoder on NAS-Bench-101, by batch size and threads.

Usage: ``python benchmarks/bench_pretrain.py [--seconds 20] [--configs 32x1 32x2 256x1 256x2]
[--evaluate RUN_DIR]``. For each ``BATCHxTHREADS`` it runs full training steps (forward, loss,
backward, Adam) of the default model on shuffled NAS-Bench-101 training cells for ``--seconds``
after a warm-up and prints one JSON line with cells/s. With ``--evaluate`` it also times
``arch2vec evaluate`` (10,000 prior samples) on a finished run.
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


def throughput(data, space, batch: int, threads: int, seconds: float) -> float:
    torch.set_num_threads(threads)
    config = PretrainConfig(space="nb101", batch_size=batch, threads=threads)
    model = build_model(config, space)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(data["ops"])))
    cells, start, step = 0, None, 0
    while True:
        b = order[(step * batch) % (len(order) - batch) :][:batch]
        out = model(data["ops"][b], data["adj"][b])
        loss, _ = model.loss(*out, data["op_target"][b], data["adj_target"][b], config.beta)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step == 20:
            start = time.perf_counter()
        elif start is not None:
            cells += batch
            if time.perf_counter() - start > seconds:
                return cells / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--configs", nargs="+", default=["32x1", "32x2", "256x1", "256x2"])
    parser.add_argument("--evaluate", metavar="RUN_DIR")
    args = parser.parse_args()
    space = spaces.get("nb101")
    data = cell_tensors(space.all(), len(space.ops))
    for item in args.configs:
        batch, threads = (int(x) for x in item.split("x"))
        rate = throughput(data, space, batch, threads, args.seconds)
        print(
            json.dumps(
                {
                    "bench": "pretrain_throughput",
                    "space": "nb101",
                    "batch_size": batch,
                    "threads": threads,
                    "cells_per_second": round(rate),
                    "cpus": os.cpu_count(),
                    "torch": torch.__version__,
                    "arch2vec": __version__,
                }
            ),
            flush=True,
        )
    if args.evaluate:
        from arch2vec.models.run import evaluate_run

        result = evaluate_run(args.evaluate)
        print(json.dumps({"bench": "evaluate", **result}))


if __name__ == "__main__":
    main()
