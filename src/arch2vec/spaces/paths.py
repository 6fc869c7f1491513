"""The path encoding of cells (BANANAS: White, Neiswanger and Savani, AAAI 2021).

A cell is described by the set of its input-to-output paths, each path by the sequence of ops of
the nodes along it (input and output included). The encoding of a batch of cells is binary: one
column per distinct path sequence, 1 where the cell has at least one path with that sequence.
BANANAS enumerates every possible sequence; here the columns are the sequences that occur in the
cells encoded (or in a given vocabulary): :func:`path_encoding` of a benchmark's pool truncates
the encoding to the paths seen in that pool, which loses nothing on it.

Definitions, for any space:

- the inputs of a cell are its nodes with outgoing but no incoming edges, the outputs its nodes
  with incoming but no outgoing edges (padding nodes and isolated nodes are neither);
- nodes whose op is in ``cut`` carry no data (NAS-Bench-201's ``none``, DARTS' ``zero``;
  :func:`cut_ops` finds them by name): a path through one is no path. A cell whose every path is
  cut encodes as all zeros;
- a path is coded as an integer: its ops' indices plus one, as the digits of a number in base
  ``num_ops + 1``, the input's the most significant. Codes therefore sort by length, then
  lexicographically by op index, and :func:`path_names` turns them back into op names.

Vectorised: all cells walk their DAG together, one step per node position (the adjacency is
upper-triangular, so node order is a topological order), holding one row per partial path. The
30,001 labelled NAS-Bench-101 cells (7 nodes, at most 32 paths each) encode in well under a
second; so do the 15,625 NAS-Bench-201 cells (4 paths each).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from arch2vec.spaces.cells import PAD, Cells

CUT_OPS = ("none", "zero")
"""Op names that carry no data: paths through such a node are dropped by :func:`cut_ops`."""


def cut_ops(ops: Sequence[str], names: Iterable[str] = CUT_OPS) -> tuple[int, ...]:
    """The indices in the op vocabulary ``ops`` of the ops called one of ``names``."""
    wanted = set(names)
    return tuple(i for i, op in enumerate(ops) if op in wanted)


def _base(num_ops: int, num_nodes: int) -> int:
    if num_ops < 1:
        raise ValueError(f"path encoding: num_ops must be >= 1, got {num_ops}")
    base = num_ops + 1
    if num_nodes * math.log2(base) >= 63:
        raise ValueError(
            f"path encoding: paths of {num_nodes} nodes over {num_ops} ops do not fit a 64-bit code"
        )
    return base


def cell_paths(
    cells: Cells, num_ops: int, cut: Iterable[int] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Every input-to-output path of every cell: ``(cell, code)``, two ``(P,)`` int64 arrays
    (one entry per path, so a cell with two paths of the same op sequence has its code twice).

    ``num_ops`` is the size of the op vocabulary (ops are ``0..num_ops - 1``); ``cut``: op
    indices whose nodes carry no data. See the module's docstring for the definitions."""
    ops = cells.ops.astype(np.int64)
    if ops.size and ops.max(initial=0) >= num_ops:
        raise ValueError(f"path encoding: op index {int(ops.max())} outside 0..{num_ops - 1}")
    base = _base(num_ops, cells.num_nodes)
    adj = cells.adjacency.astype(bool)
    real = ops != PAD
    has_in, has_out = adj.any(axis=1), adj.any(axis=2)
    alive = real & ~np.isin(ops, np.fromiter(cut, dtype=np.int64))
    sink = real & has_in & ~has_out
    cell, node = np.nonzero(alive & has_out & ~has_in)  # the inputs, one partial path each
    code = ops[cell, node] + 1
    found_cells, found_codes = [], []
    while len(cell):
        row, nxt = np.nonzero(adj[cell, node])  # every edge out of every partial path's end
        keep = alive[cell[row], nxt]
        row, nxt = row[keep], nxt[keep]
        cell, node = cell[row], nxt
        code = code[row] * base + ops[cell, node] + 1
        done = sink[cell, node]
        found_cells.append(cell[done])
        found_codes.append(code[done])
        cell, node, code = cell[~done], node[~done], code[~done]
    if not found_cells:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(found_cells), np.concatenate(found_codes)


def path_encoding(
    cells: Cells,
    num_ops: int,
    cut: Iterable[int] = (),
    paths: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The path encoding of ``cells``: ``(features, paths)``.

    ``features`` is ``(len(cells), len(paths))`` float32, 1 where the cell has a path coded
    ``paths[j]``; ``paths`` (int64 codes, sorted) are the distinct paths of ``cells`` unless
    given (then a cell's paths outside it are left out: the encoding of new cells in the
    columns of a pool). ``num_ops`` and ``cut`` as in :func:`cell_paths`."""
    cell, code = cell_paths(cells, num_ops, cut)
    if paths is None:
        paths = np.unique(code)
    else:
        paths = np.asarray(paths, dtype=np.int64)
        if paths.ndim != 1 or (len(paths) > 1 and np.any(np.diff(paths) <= 0)):
            raise ValueError("path_encoding: paths must be a sorted 1-d array of distinct codes")
    features = np.zeros((len(cells), len(paths)), dtype=np.float32)
    column = np.searchsorted(paths, code)
    known = column < len(paths)
    known[known] = paths[column[known]] == code[known]
    features[cell[known], column[known]] = 1.0
    return features, paths


def path_names(paths: Sequence[int] | np.ndarray, ops: Sequence[str], sep: str = "~") -> list[str]:
    """The op names along each coded path, joined by ``sep`` (input first)."""
    base = len(ops) + 1
    names = []
    for code in np.asarray(paths, dtype=np.int64).tolist():
        digits = []
        while code > 0:
            code, digit = divmod(code, base)
            digits.append(ops[digit - 1])
        names.append(sep.join(reversed(digits)))
    return names
