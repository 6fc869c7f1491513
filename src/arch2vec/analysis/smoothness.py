"""Smoothness of a latent space: the arch2vec paper's Figures 2 and 3, measured on our embeddings.

* **Distance against edit distance (Figure 3).** A random walk through the space where consecutive
  cells are exactly one edit apart visits cells at every edit distance from each other; over all
  pairs of its cells, the L2 distance of their embeddings is grouped by their edit distance. A
  smooth space has L2 distances that grow with the edit distance.
* **Nearest-neighbour walks (Figure 2).** From a start cell, repeatedly move to the closest (L2)
  not-yet-visited cell of the embedding and record the edit distance between consecutive cells.
  A smooth space keeps those steps short (the paper, NAS-Bench-101, 15 steps: 2.9 for arch2vec
  against 8.9 for a supervised embedding).

Edit distance is the paper's: differing adjacency entries plus differing ops of the two cells'
stored (pool) matrices, :func:`arch2vec.spaces.cells.edit_distance`. It is not invariant to node
order, so an NB-101 cell that is one graph edit away from another but stored with its nodes in a
different order counts as farther than 1 (and is not a :func:`neighbours` of it).
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec.analysis.draw import draw_cells
from arch2vec.analysis.plots import pyplot, save_figure
from arch2vec.benchmarks.base import Benchmark
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import Cells, edit_distance

_LOOKUP: weakref.WeakKeyDictionary[SearchSpace, tuple[int, dict[bytes, int]]] = (
    weakref.WeakKeyDictionary()
)
_CHUNK = 100_000


# ---------------------------------------------------------------------------------------------
# Neighbours and random walks


def _keys(cells: Cells) -> list[bytes]:
    """One exact byte key per cell: its packed adjacency bits followed by its ops."""
    bits = np.packbits(cells.adjacency.reshape(len(cells), -1), axis=1)
    raw = np.ascontiguousarray(np.concatenate([bits, cells.ops.view(np.uint8)], axis=1))
    return raw.view(f"V{raw.shape[1]}").ravel().tolist()


def _pool_lookup(space: SearchSpace, pool: Cells) -> dict[bytes, int]:
    """``exact cell key -> pool index`` of ``space`` (built once per space object)."""
    size, table = _LOOKUP.get(space, (-1, {}))
    if size != len(pool):
        table = {k: i for i, k in enumerate(_keys(pool))}
        _LOOKUP[space] = (len(pool), table)
    return table


def single_edits(cell: Cells, num_ops: int) -> Cells:
    """Every cell one edit away from ``cell`` (a batch of one), valid or not.

    The edits flip one upper-triangular adjacency entry (add or remove an edge) or change one
    node's op to any other of the ``num_ops`` ops (padding nodes included; such edits give cells
    outside the space, which :func:`neighbours` does not find in the pool).
    """
    if len(cell) != 1:
        raise ValueError(f"single_edits: expected one cell, got a batch of {len(cell)}")
    adj, ops = cell.adjacency[0], cell.ops[0]
    n = cell.num_nodes
    src, dst = np.triu_indices(n, k=1)
    flips = np.repeat(adj[None], len(src), axis=0)
    flips[np.arange(len(src)), src, dst] ^= 1
    node, new_op = np.divmod(np.arange(n * num_ops), num_ops)
    keep = ops[node] != new_op
    node, new_op = node[keep], new_op[keep]
    relabels = np.repeat(ops[None], len(node), axis=0)
    relabels[np.arange(len(node)), node] = new_op
    return Cells(
        np.concatenate([flips, np.repeat(adj[None], len(node), axis=0)]),
        np.concatenate([np.repeat(ops[None], len(src), axis=0), relabels]),
        cell.space,
    )


def neighbours(space: SearchSpace, index: int) -> np.ndarray:
    """Sorted pool indices of the cells at edit distance exactly 1 from pool cell ``index``.

    Every single edit of the cell is generated as one batch and looked up, as an exact matrix
    pair, among the pool's cells. That is the same set as hashing the valid edits, finding the
    pool cells with those hashes and keeping those whose stored matrices are one edit from the
    start's: a pool cell one edit away *is* one of the edits, and an edit that only matches a pool
    cell up to isomorphism or pruning is farther away in stored form. It needs no hashing.
    """
    pool = space.all()
    return _neighbours(space, pool, _check_index(index, len(pool), "index"))


def _neighbours(space: SearchSpace, pool: Cells, index: int) -> np.ndarray:
    lookup = _pool_lookup(space, pool)
    edits = single_edits(pool[index], len(space.ops))
    found = np.array([lookup.get(k, -1) for k in _keys(edits)], dtype=np.int64)
    return np.unique(found[found >= 0])


def random_walk(
    space: SearchSpace, length: int = 1000, seed: int = 0, start: int | None = None
) -> np.ndarray:
    """``(length,)`` pool indices of a random walk whose consecutive cells are one edit apart.

    Each step moves to a uniformly drawn :func:`neighbours` cell that the walk has not visited;
    where every neighbour has been visited (the walk is stuck), it moves to any neighbour, so the
    walk may then revisit cells. The start is ``start`` or a random cell with at least one
    neighbour (cells without any, like NB-101's two-node cell, are skipped). Deterministic given
    ``seed``.
    """
    if length < 2:
        raise ValueError(f"random_walk: length must be at least 2, got {length}")
    pool = space.all()
    num_cells = len(pool)
    rng = np.random.default_rng(seed)
    cache: dict[int, np.ndarray] = {}

    def nbrs(i: int) -> np.ndarray:
        if i not in cache:
            cache[i] = _neighbours(space, pool, i)
        return cache[i]

    if start is None:
        for _ in range(1000):
            start = int(rng.integers(num_cells))
            if len(nbrs(start)):
                break
        else:
            raise ValueError(f"random_walk: no cell with a neighbour found in {space.name}")
    else:
        start = _check_index(start, num_cells, "start")
        if not len(nbrs(start)):
            raise ValueError(f"random_walk: cell {start} has no cell one edit away")
    walk = np.empty(length, dtype=np.int64)
    walk[0] = start
    visited = {start}
    for step in range(1, length):
        options = nbrs(int(walk[step - 1]))
        fresh = options[[o not in visited for o in options.tolist()]]
        choice = int(rng.choice(fresh if len(fresh) else options))
        walk[step] = choice
        visited.add(choice)
    return walk


# ---------------------------------------------------------------------------------------------
# L2 distance against edit distance


def walk_pairs(
    space: SearchSpace, walk: np.ndarray, max_pairs: int | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(first, second, edit)``: pool-index pairs of distinct walk cells and their edit distance.

    All pairs of the walk's distinct cells (a revisited cell counts once), or, if there are more
    than ``max_pairs``, ``max_pairs`` of them drawn without replacement with ``seed``.
    """
    num_cells = len(space.all())
    walk = _check_walk(walk, num_cells)
    first_seen = np.sort(np.unique(walk, return_index=True)[1])
    cells = walk[first_seen]
    if len(cells) < 2:
        raise ValueError("walk_pairs: the walk visits fewer than 2 distinct cells")
    m = len(cells)
    total = m * (m - 1) // 2
    if max_pairs is not None and max_pairs < 1:
        raise ValueError(f"walk_pairs: max_pairs must be positive, got {max_pairs}")
    if max_pairs is None or total <= max_pairs:
        a, b = np.triu_indices(m, k=1)
    else:
        flat = np.sort(np.random.default_rng(seed).choice(total, size=max_pairs, replace=False))
        a, b = _pair_of_flat(flat, m)
    first, second = cells[a], cells[b]
    pool = space.all()
    edit = np.empty(len(first), dtype=np.int64)
    for lo in range(0, len(first), _CHUNK):
        hi = lo + _CHUNK
        edit[lo:hi] = edit_distance(pool[first[lo:hi]], pool[second[lo:hi]])
    return first, second, edit


def _pair_of_flat(flat: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-major position in the strict upper triangle of an ``m x m`` matrix -> ``(i, j)``."""
    starts = np.concatenate([[0], np.cumsum(np.arange(m - 1, 0, -1))])  # first flat index of row
    i = np.searchsorted(starts, flat, side="right") - 1
    j = flat - starts[i] + i + 1
    return i, j


def l2_distances(embeddings: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``(P,)`` float64 L2 distances between the embedding rows ``first[k]`` and ``second[k]``."""
    out = np.empty(len(first), dtype=np.float64)
    for lo in range(0, len(first), _CHUNK):
        hi = lo + _CHUNK
        diff = embeddings[first[lo:hi]].astype(np.float64) - embeddings[second[lo:hi]]
        out[lo:hi] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out


def group_by_edit(values: np.ndarray, edit: np.ndarray) -> dict[int, np.ndarray]:
    """``{edit distance: values of the pairs at that distance}``, keys increasing."""
    order = np.argsort(edit, kind="stable")
    keys, starts = np.unique(edit[order], return_index=True)
    parts = np.split(values[order], starts[1:])
    return {int(k): p for k, p in zip(keys.tolist(), parts, strict=True)}


def distance_by_edit(
    space: SearchSpace,
    embeddings: np.ndarray,
    walk: np.ndarray,
    max_pairs: int | None = None,
    seed: int = 0,
) -> dict[int, np.ndarray]:
    """L2 distances of the embeddings of all pairs of walk cells, grouped by their edit distance.

    ``embeddings`` is ``(num_cells, d)`` by pool index; pairs are those of :func:`walk_pairs`
    (1,000 distinct cells give 499,500 pairs; ``max_pairs`` caps them by a seeded draw).
    """
    embeddings = _check_embeddings(embeddings, len(space.all()))
    first, second, edit = walk_pairs(space, walk, max_pairs, seed)
    return group_by_edit(l2_distances(embeddings, first, second), edit)


# ---------------------------------------------------------------------------------------------
# Nearest-neighbour walks


def nearest_neighbour_walk(
    embeddings: np.ndarray,
    start: int,
    steps: int = 15,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """``(steps + 1,)`` indices: ``start``, then each time the closest (L2) unvisited cell.

    ``candidates`` restricts the cells the walk may move to (pool indices; default every row of
    ``embeddings``). Ties go to the lowest index.
    """
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings: expected a (num_cells, d) array, got {embeddings.shape}")
    num_cells = len(embeddings)
    start = _check_index(start, num_cells, "start")
    if candidates is None:
        cand = np.arange(num_cells)
    else:
        cand = _check_walk(np.atleast_1d(candidates), num_cells, "candidates")
        cand = np.unique(cand[cand != start])
    if steps < 1:
        raise ValueError(f"nearest_neighbour_walk: steps must be at least 1, got {steps}")
    available = len(cand) - int(candidates is None)
    if steps > available:
        raise ValueError(f"nearest_neighbour_walk: {steps} steps but only {available} candidates")
    points = embeddings if candidates is None else embeddings[cand]
    visited = np.zeros(len(cand), dtype=bool)
    if candidates is None:
        visited[start] = True
    walk = [start]
    dist = np.empty(len(cand), dtype=np.float64)
    current = embeddings[start].astype(np.float64)
    for _ in range(steps):
        for lo in range(0, len(points), _CHUNK):  # squared L2 in float64, chunked for memory
            diff = points[lo : lo + _CHUNK].astype(np.float64) - current
            dist[lo : lo + _CHUNK] = np.einsum("ij,ij->i", diff, diff)
        dist[visited] = np.inf
        k = int(np.argmin(dist))
        visited[k] = True
        walk.append(int(cand[k]))
        current = points[k].astype(np.float64)
    return np.asarray(walk, dtype=np.int64)


def walk_edit_distances(space: SearchSpace, walk: np.ndarray) -> np.ndarray:
    """``(len(walk) - 1,)`` int64 edit distances between consecutive cells of a walk."""
    pool = space.all()
    walk = _check_walk(walk, len(pool))
    if len(walk) < 2:
        raise ValueError(f"walk_edit_distances: a walk needs at least 2 cells, got {len(walk)}")
    return edit_distance(pool[walk[:-1]], pool[walk[1:]])


# ---------------------------------------------------------------------------------------------
# Plots


def distance_boxes_figure(groups_by_name: dict[str, dict[int, np.ndarray]], title: str = ""):
    """The figure of :func:`plot_distance_boxes` (the caller closes it); a long title wraps to
    the figure's width instead of being cut."""
    import textwrap

    if not groups_by_name:
        raise ValueError("plot_distance_boxes: no embeddings to plot")
    plt = pyplot()
    n = len(groups_by_name)
    width = max(4.8 * n, 5.2)
    fig, axes = plt.subplots(
        1, n, figsize=(width, 3.8), dpi=130, squeeze=False, layout="constrained"
    )
    for ax, (name, groups) in zip(axes[0], groups_by_name.items(), strict=True):
        keys = sorted(k for k, v in groups.items() if len(v))
        ax.boxplot(
            [groups[k] for k in keys],
            positions=np.arange(len(keys)),
            widths=0.6,
            showfliers=False,
            medianprops={"color": "C1"},
        )
        ax.set_xticks(np.arange(len(keys)), [str(k) for k in keys])
        ax.set_xlabel("edit distance")
        ax.set_ylabel("L2 distance in the embedding")
        ax.set_title(name, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(textwrap.fill(title, width=int(width * 10)), fontsize=10)
    return fig


def plot_distance_boxes(
    groups_by_name: dict[str, dict[int, np.ndarray]], out_png: str | Path, title: str = ""
) -> Path:
    """Box plots of L2 distance (y) against edit distance (x), one panel per embedding name.

    Boxes are quartiles, whiskers 1.5 IQR, outliers not drawn; each panel has its own y scale.
    """
    fig = distance_boxes_figure(groups_by_name, title)
    try:
        return save_figure(fig, out_png)
    finally:
        pyplot().close(fig)


# ---------------------------------------------------------------------------------------------
# The whole analysis


def run_smoothness(
    embeddings: dict[str, np.ndarray],
    space: SearchSpace,
    out_dir: str | Path,
    walk_length: int = 1000,
    nn_starts: int = 10,
    nn_steps: int = 15,
    seed: int = 0,
    max_pairs: int | None = 1_000_000,
) -> dict[str, Any]:
    """Both smoothness analyses for every embedding of ``space`` given (``{name: (num_cells, d)}``).

    One random walk of ``walk_length`` cells (shared by all embeddings) gives L2 distance by edit
    distance; nearest-neighbour walks of ``nn_steps`` steps from ``nn_starts`` random cells (the
    same for all embeddings) give the edit distance of each step. Writes ``smoothness.json``,
    ``distance_by_edit.png`` and ``nn_walk_<name>.png`` (the first walk) into ``out_dir`` and
    returns the JSON's content.
    """
    from scipy.stats import spearmanr

    import arch2vec
    from arch2vec import io

    if not embeddings:
        raise ValueError("run_smoothness: no embeddings given")
    num_cells = len(space.all())
    checked = {name: _check_embeddings(e, num_cells, name) for name, e in embeddings.items()}
    if not 1 <= nn_starts <= num_cells:
        raise ValueError(f"run_smoothness: nn_starts must be between 1 and {num_cells}")
    if not 1 <= nn_steps < num_cells:
        raise ValueError(f"run_smoothness: nn_steps must be between 1 and {num_cells - 1}")
    if walk_length < 2:
        raise ValueError(f"run_smoothness: walk_length must be at least 2, got {walk_length}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    began = time.perf_counter()

    t = time.perf_counter()
    walk = random_walk(space, walk_length, seed)
    timings["random_walk_s"] = time.perf_counter() - t
    t = time.perf_counter()
    first, second, edit = walk_pairs(space, walk, max_pairs, seed)
    timings["walk_pairs_s"] = time.perf_counter() - t
    starts = np.random.default_rng(seed + 1).choice(num_cells, size=nn_starts, replace=False)

    report: dict[str, Any] = {
        "version": arch2vec.__version__,
        "config": {
            "space": space.name,
            "num_cells": num_cells,
            "walk_length": walk_length,
            "nn_starts": nn_starts,
            "nn_steps": nn_steps,
            "seed": seed,
            "max_pairs": max_pairs,
            "embeddings": {name: list(e.shape) for name, e in checked.items()},
        },
        "random_walk": {
            "start": int(walk[0]),
            "distinct_cells": int(len(np.unique(walk))),
            "pairs": int(len(edit)),
            "max_edit_distance": int(edit.max()),
        },
        "nn_starts": starts.tolist(),
        "embeddings": {},
        "timings": timings,
    }
    groups_by_name = {}
    for name, emb in checked.items():
        t = time.perf_counter()
        l2 = l2_distances(emb, first, second)
        groups = group_by_edit(l2, edit)
        groups_by_name[name] = groups
        rho = float(spearmanr(l2, edit)[0]) if edit.min() < edit.max() else None
        timings[f"{name}_distance_by_edit_s"] = time.perf_counter() - t
        t = time.perf_counter()
        walks = [nearest_neighbour_walk(emb, int(s), nn_steps) for s in starts]
        steps = np.stack([walk_edit_distances(space, w) for w in walks])
        timings[f"{name}_nn_walks_s"] = time.perf_counter() - t
        report["embeddings"][name] = {
            "nn_walk": {
                "mean_edit_distance": float(steps.mean()),
                "std_edit_distance": float(steps.std()),
                "mean_edit_distance_per_start": steps.mean(axis=1).tolist(),
                "walks": [w.tolist() for w in walks],
                "edit_distances": steps.tolist(),
            },
            "distance_by_edit": {str(k): _summary(v) for k, v in groups.items()},
            "spearman_l2_vs_edit": rho,
        }
    t = time.perf_counter()
    for name, result in report["embeddings"].items():
        walk0, steps0 = result["nn_walk"]["walks"][0], result["nn_walk"]["edit_distances"][0]
        titles = ["start"] + [f"step {k + 1}: edit {d}" for k, d in enumerate(steps0)]
        draw_cells(space, walk0, out_dir / f"nn_walk_{_file_part(name)}.png", titles, ncols=4)
    plot_distance_boxes(
        groups_by_name,
        out_dir / "distance_by_edit.png",
        f"{space.name}: {len(edit):,} pairs of cells of a {walk_length}-cell random walk",
    )
    timings["plots_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - began
    io.atomic_write_json(out_dir / "smoothness.json", report)
    return report


def smoothness_of_run(
    embeddings: str | Path,
    out_dir: str | Path,
    benchmark: str | Benchmark | None = None,
    dataset: str | None = None,
    file: str | Path | None = None,
    data_dir: str | Path | None = None,
    train_size: int = 250,
    walk_length: int = 1000,
    nn_starts: int = 10,
    nn_steps: int = 15,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
    columns: dict[str, str] | None = None,
) -> dict[str, Any]:
    """:func:`run_smoothness` of the embeddings of a pre-training run (or ``.npz``); with a
    ``benchmark``, beside the supervised embedding (:func:`~arch2vec.models.regressor.
    supervised_embedding`) trained on the validation accuracy of ``train_size`` cells drawn
    with ``seed`` from the cells the benchmark covers."""
    from arch2vec import benchmarks, checks
    from arch2vec.models.regressor import supervised_embedding
    from arch2vec.models.run import load_embeddings

    checks.integer("train_size", train_size, 2, checks.MAX_CELLS)
    checks.integer("walk_length", walk_length, 2, checks.MAX_CELLS)
    checks.integer("nn_starts", nn_starts, 1, checks.MAX_CELLS)
    checks.integer("nn_steps", nn_steps, 1, checks.MAX_CELLS)
    checks.seed(seed)
    emb = load_embeddings(embeddings)
    space = emb.load_space(data_dir)
    named = {"arch2vec": emb.check_space(space, str(embeddings))}
    if benchmark:
        bench = benchmarks.load(benchmark, dataset, file, data_dir, space=space, columns=columns)
        accuracy = bench.valid if np.isfinite(bench.valid).any() else bench.search
        pool = bench.pool[np.isfinite(accuracy[bench.pool])]
        size = min(int(train_size), len(pool))
        if size < 2:
            raise ValueError(f"benchmark {bench.name} has fewer than 2 cells with an accuracy")
        train = np.sort(np.random.default_rng(seed).choice(pool, size, replace=False))
        if log is not None:
            log(f"training the supervised encoder on {size} cells of {bench.name}")
        named["supervised"] = supervised_embedding(
            space, space.all(), train, accuracy[train], seed=seed
        )
    return run_smoothness(
        named,
        space,
        out_dir,
        walk_length=walk_length,
        nn_starts=nn_starts,
        nn_steps=nn_steps,
        seed=seed,
    )


def _summary(values: np.ndarray) -> dict[str, float]:
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {
        "count": int(len(values)),
        "mean": float(values.mean()),
        "q1": float(q1),
        "median": float(median),
        "q3": float(q3),
    }


# ---------------------------------------------------------------------------------------------
# Checks and helpers


def _file_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "embedding"


def _check_index(index, num_cells: int, what: str) -> int:
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
        raise ValueError(f"{what}: expected an integer pool index, got {index!r}")
    if not 0 <= index < num_cells:
        raise ValueError(f"{what}: {index} is outside 0..{num_cells - 1}")
    return int(index)


def _check_walk(walk, num_cells: int, what: str = "walk") -> np.ndarray:
    walk = np.asarray(walk)
    if walk.ndim != 1 or (walk.size and not np.issubdtype(walk.dtype, np.integer)):
        raise ValueError(f"{what}: expected a 1-d array of pool indices, got shape {walk.shape}")
    walk = walk.astype(np.int64)
    bad = (walk < 0) | (walk >= num_cells)
    if bad.any():
        raise ValueError(f"{what}: index {int(walk[bad][0])} is outside 0..{num_cells - 1}")
    return walk


def _check_embeddings(embeddings, num_cells: int, name: str = "embeddings") -> np.ndarray:
    e = np.asarray(embeddings)
    if e.ndim != 2 or len(e) != num_cells:
        raise ValueError(f"{name}: expected one row per cell ({num_cells}, d), got shape {e.shape}")
    if not np.issubdtype(e.dtype, np.number) or not np.isfinite(e).all():
        raise ValueError(f"{name}: embeddings must be finite numbers")
    return e
