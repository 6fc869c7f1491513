"""Where a pre-trained autoencoder's reconstruction fails: per-edge and per-position errors.

Usage: ``python perf/decoder_errors.py RUN_DIR [--cells 20000] [--top 10]``.

Decodes the latent means of (up to ``--cells``) held-out cells of the run and prints, as JSON:
the share of cells reconstructed exactly, how many wrong edges a cell has (a histogram), the
``--top`` node pairs by error rate with their false positives, false negatives and how often
the edge is present in the held-out cells, and the op error rate per node position. It showed
the cause of DARTS's 96.4 % plateau with the paper's inner-product decoder: every error a
false edge between op nodes, several between nodes that no cell of the space connects
(BENCHMARKS.md, "Table 1 in full (issue 21)").
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from arch2vec.models.run import load_run
from arch2vec.models.train import split
from arch2vec.models.vgae import cell_tensors, decode, encode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--cells", type=int, default=20_000, help="held-out cells to decode")
    parser.add_argument("--top", type=int, default=10, help="node pairs to list")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config, space, model = load_run(args.run_dir)
    cells = space.all()
    _, held_idx = split(len(cells), config.holdout, config.seed)
    held = cells[held_idx[: args.cells]]
    mu, _ = encode(model, cell_tensors(held, len(space.ops)))
    adj, ops = decode(model, mu)
    rows, cols = np.triu_indices(space.num_nodes, k=1)
    want = held.adjacency[:, rows, cols]
    got = adj[:, rows, cols]
    wrong = got != want
    op_wrong = ops != held.ops
    rate = wrong.mean(0)
    pairs = []
    for k in np.argsort(-rate, kind="stable")[: args.top]:
        pairs.append(
            {
                "edge": f"{rows[k]}->{cols[k]}",
                "error_rate": round(float(rate[k]), 5),
                "false_positives": int((got[:, k] & ~want[:, k].astype(bool)).sum()),
                "false_negatives": int((~got[:, k].astype(bool) & want[:, k].astype(bool)).sum()),
                "present": round(float(want[:, k].mean()), 4),
            }
        )
    result = {
        "run_dir": args.run_dir,
        "cells": len(held),
        "reconstruction_accuracy": float(1 - (wrong.any(1) | op_wrong.any(1)).mean()),
        "cells_by_wrong_edges": np.bincount(wrong.sum(1)).tolist(),
        "worst_edges": pairs,
        "op_error_by_position": [round(float(x), 5) for x in op_wrong.mean(0)],
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
