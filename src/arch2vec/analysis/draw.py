"""Cells drawn as small DAG pictures: op labels on nodes, arrows for edges (PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from arch2vec.analysis.plots import pyplot, save_figure
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import PAD, Cells

_SHORT = {
    "input": "in",
    "output": "out",
    "conv1x1-bn-relu": "conv1x1",
    "conv3x3-bn-relu": "conv3x3",
    "maxpool3x3": "max-pool",
    "avgpool3x3": "avg-pool",
    "max_pool_3x3": "max-pool",
    "avg_pool_3x3": "avg-pool",
    "identity": "skip",
    "sep_conv_3x3": "sep3x3",
    "sep_conv_5x5": "sep5x5",
    "dil_conv_3x3": "dil3x3",
    "dil_conv_5x5": "dil5x5",
}


def short_op_name(name: str) -> str:
    """A short label for an op name (``conv3x3-bn-relu`` -> ``conv3x3``)."""
    return _SHORT.get(name, name.replace("-bn-relu", "")[:10])


def node_positions(adjacency: np.ndarray, ops: np.ndarray) -> dict[int, tuple[float, float]]:
    """``{node: (x, y)}`` of a cell's non-padding nodes: x the longest-path depth from the
    sources (so edges point left to right), nodes of one depth spread vertically; a depth with a
    single node is set slightly up or down, alternately, so that edges skipping it miss it."""
    real = [i for i in range(len(ops)) if ops[i] != PAD]
    depth: dict[int, int] = {}
    for j in real:  # upper-triangular: index order is a topological order
        preds = [i for i in real if i < j and adjacency[i, j]]
        depth[j] = max((depth[i] + 1 for i in preds), default=0)
    layers: dict[int, list[int]] = {}
    for j in real:
        layers.setdefault(depth[j], []).append(j)
    last = max(layers, default=0)
    pos = {}
    for d, nodes in layers.items():
        for k, j in enumerate(nodes):
            y = (len(nodes) - 1) / 2 - k
            if len(nodes) == 1 and 0 < d < last:
                y = 0.3 if d % 2 else -0.3
            pos[j] = (float(d), y)
    return pos


def _draw_cell(
    ax, adjacency: np.ndarray, ops: np.ndarray, names: Sequence[str], width: float, height: float
) -> None:
    pos = node_positions(adjacency, ops)
    boxes = {}
    for i, (x, y) in pos.items():
        label = short_op_name(names[ops[i]])
        boxes[i] = ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=5.5,
            zorder=3,
            bbox={
                "boxstyle": "round,pad=0.25",
                "fc": "0.85" if label in ("in", "out") else "#dbe9f6",
                "ec": "0.3",
                "lw": 0.6,
            },
        ).get_bbox_patch()
    for i, (xi, yi) in pos.items():
        for j, (xj, yj) in pos.items():
            if j > i and adjacency[i, j]:
                bend = 0.0
                if xj - xi > 1:  # skips a depth: bend away from the nodes in between
                    bend = 0.3 if (yj + yi < 0 or (yj + yi == 0 and (i + j) % 2)) else -0.3
                ax.annotate(
                    "",
                    xy=(xj, yj),
                    xytext=(xi, yi),
                    zorder=2,
                    arrowprops={
                        "arrowstyle": "-|>",
                        "color": "0.35",
                        "lw": 0.7,
                        "patchA": boxes[i],
                        "patchB": boxes[j],
                        "shrinkA": 1,
                        "shrinkB": 1,
                        "mutation_scale": 6,
                        "connectionstyle": f"arc3,rad={bend}",
                    },
                )
    ax.set_xlim(-0.6, width - 0.4)
    ax.set_ylim(-height / 2, height / 2)
    ax.axis("off")


def draw_cells(
    space: SearchSpace,
    cells_or_indices: Cells | Sequence[int] | np.ndarray,
    out_png: str | Path,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
) -> Path:
    """Draw cells as small DAG pictures (op labels on nodes, arrows for edges) into a PNG.

    ``cells_or_indices`` is a :class:`Cells` batch or pool indices of ``space``; pictures go left
    to right in rows of ``ncols`` (default: one row), each under its title if ``titles`` is given.
    """
    plt = pyplot()
    if isinstance(cells_or_indices, Cells):
        cells = cells_or_indices
    else:
        pool = space.all()
        cells = pool[_pool_indices(cells_or_indices, len(pool))]
    if len(cells) == 0:
        raise ValueError("draw_cells: no cells to draw")
    if titles is not None and len(titles) != len(cells):
        raise ValueError(f"draw_cells: {len(titles)} titles for {len(cells)} cells")
    ncols = len(cells) if ncols is None else max(1, min(ncols, len(cells)))
    nrows = -(-len(cells) // ncols)
    layouts = [node_positions(a, o) for a, o in zip(cells.adjacency, cells.ops, strict=True)]
    width = max(max((p[0] for p in lay.values()), default=0.0) for lay in layouts) + 1.0
    height = max(2 * max((abs(p[1]) for p in lay.values()), default=0.0) for lay in layouts) + 1.6
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(0.62 * width * ncols, (0.42 * height + 0.25) * nrows),
        dpi=150,
        squeeze=False,
    )
    for k, ax in enumerate(axes.ravel()):
        if k >= len(cells):
            ax.axis("off")
            continue
        _draw_cell(ax, cells.adjacency[k], cells.ops[k], space.ops, width, height)
        if titles is not None:
            ax.set_title(titles[k], fontsize=7)
    fig.tight_layout()
    out_png = save_figure(fig, out_png)
    plt.close(fig)
    return out_png


def _pool_indices(indices, num_cells: int) -> np.ndarray:
    idx = np.atleast_1d(np.asarray(indices))
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise ValueError(f"draw_cells: expected pool indices, got shape {idx.shape}")
    bad = (idx < 0) | (idx >= num_cells)
    if bad.any():
        raise ValueError(f"draw_cells: index {int(idx[bad][0])} is outside 0..{num_cells - 1}")
    return idx.astype(np.int64)


def draw_best(space: SearchSpace, summary: dict, out_png: str | Path) -> Path | None:
    """Draw the best cell of a search summary, titled with its reward (None if it names none)."""
    best = summary.get("best")
    if not isinstance(best, dict) or best.get("index") is None:
        return None
    title = f"best: {best['reward']:.2f}% (run {best['run']}, query {best['query']})"
    return draw_cells(space, [best["index"]], out_png, titles=[title])
