"""Made-up results for the cell6 example space (docs/user-spaces.md): a CSV of rewards.

Stands in for your own measurements. Each cell's "accuracy" grows with its convolutions and its
depth, pooling costs a little, the cell's noise is fixed by its hash; its "training time" grows
with the convolutions. ``--coverage`` of the cells get a row (the others were never trained).

Usage: ``python -m arch2vec.examples.cell6_rewards --space cell6.toml --out rewards.csv``
(``--space`` defaults to the cell6 spec that ships with arch2vec: ``arch2vec space spec cell6``
writes a copy).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from arch2vec import spaces


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m arch2vec.examples.cell6_rewards", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--space", help="the cell6 spec file (default: the one that ships with arch2vec)"
    )
    parser.add_argument("--out", required=True)
    parser.add_argument("--coverage", type=float, default=0.8, help="share of cells with a row")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    space = spaces.get(args.space or str(spaces.example_spec("cell6")))
    cells = space.all()
    count = {op: (cells.ops == space.ops.index(op)).sum(axis=1) for op in space.ops}
    depth = _depth(cells.adjacency)
    noise = np.array([int(h[:8], 16) / 16**8 for h in space.hashes()]) - 0.5  # fixed per cell
    reward = 70 + 2.5 * count["conv3x3"] + 3.0 * count["conv5x5"] - 1.5 * count["maxpool3x3"]
    reward = np.clip(reward + 1.5 * depth + 2.0 * noise, 0, 100)
    cost = 60.0 + 40.0 * count["conv3x3"] + 75.0 * count["conv5x5"]
    rng = np.random.default_rng(args.seed)
    rows = np.sort(rng.choice(len(cells), int(args.coverage * len(cells)), replace=False))
    names = space.to_native(cells[rows])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["arch", "reward", "cost"])
        for k, i in enumerate(rows.tolist()):
            out.writerow([json.dumps(names[k]), round(float(reward[i]), 3), cost[i]])
    print(f"wrote {len(rows):,} of {len(cells):,} cells to {args.out}")


def _depth(adjacency: np.ndarray) -> np.ndarray:
    """Longest path length (edges) from the input of each cell."""
    n = adjacency.shape[1]
    dist = np.zeros(adjacency.shape[:2])
    for j in range(1, n):
        reach = np.where(adjacency[:, :j, j] > 0, dist[:, :j] + 1, 0)
        dist[:, j] = reach.max(axis=1)
    return dist.max(axis=1)


if __name__ == "__main__":
    main()
