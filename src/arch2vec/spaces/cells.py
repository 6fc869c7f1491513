"""The one cell representation shared by every search space.

A cell is a labelled DAG: a strictly upper-triangular adjacency matrix (``N x N``, ``uint8``,
``A[i, j] = 1`` for an edge ``i -> j``) and one op index per node into the space's op vocabulary.
Nodes that do not exist (the padding of a NAS-Bench-101 cell with fewer than seven nodes) carry the
op index :data:`PAD` and no edges. A batch is the same arrays stacked: ``adjacency`` ``(B, N, N)``
and ``ops`` ``(B, N)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PAD = -1
"""Op index of a padding node (no node at that position)."""


def check_adjacency(adjacency: np.ndarray, what: str = "adjacency") -> np.ndarray:
    """Return ``adjacency`` as a ``(B, N, N)`` uint8 array or raise a one-line ``ValueError``.

    Accepts one matrix ``(N, N)`` or a batch; entries must be 0/1, strictly upper-triangular.
    """
    a = np.asarray(adjacency)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[1] != a.shape[2]:
        raise ValueError(f"{what}: expected square N x N matrices, got shape {np.shape(adjacency)}")
    if a.size and ((a != 0) & (a != 1)).any():
        raise ValueError(f"{what}: entries must be 0 or 1")
    a = a.astype(np.uint8)
    lower = np.tril(np.ones(a.shape[1:], dtype=bool))
    if a.size and a[:, lower].any():
        bad = int(np.flatnonzero(a[:, lower].any(axis=1))[0])
        raise ValueError(
            f"{what}: matrix {bad} is not strictly upper-triangular "
            "(edges must go from a lower to a higher node index, no self-loops)"
        )
    return a


@dataclass(frozen=True, eq=False)
class Cells:
    """A batch of cells of one search space (``space`` names it; may be empty for raw graphs)."""

    adjacency: np.ndarray
    ops: np.ndarray
    space: str = ""

    def __post_init__(self) -> None:
        adj = check_adjacency(self.adjacency)
        ops = np.asarray(self.ops)
        if ops.ndim == 1:
            ops = ops[None]
        if ops.ndim != 2 or ops.shape != adj.shape[:2]:
            raise ValueError(
                f"ops: expected shape {adj.shape[:2]} to match the adjacency, "
                f"got {np.shape(self.ops)}"
            )
        if ops.size and not np.issubdtype(ops.dtype, np.integer):
            raise ValueError(f"ops: expected integer op indices, got dtype {ops.dtype}")
        object.__setattr__(self, "adjacency", adj)
        object.__setattr__(self, "ops", ops.astype(np.int8))

    def __len__(self) -> int:
        return self.ops.shape[0]

    def __getitem__(self, index) -> Cells:
        """Index, slice or index array -> a ``Cells`` batch (an integer gives a batch of one)."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1) if index != -1 else slice(-1, None)
        return Cells(self.adjacency[index], self.ops[index], self.space)

    @property
    def num_nodes(self) -> int:
        return self.adjacency.shape[1]

    @classmethod
    def concat(cls, parts: Sequence[Cells]) -> Cells:
        if not parts:
            raise ValueError("Cells.concat needs at least one batch")
        spaces = {p.space for p in parts}
        if len(spaces) > 1:
            raise ValueError(f"Cells.concat: batches belong to different spaces {sorted(spaces)}")
        return cls(
            np.concatenate([p.adjacency for p in parts]),
            np.concatenate([p.ops for p in parts]),
            parts[0].space,
        )

    def num_edges(self) -> np.ndarray:
        return self.adjacency.sum(axis=(1, 2), dtype=np.int64)

    def node_mask(self) -> np.ndarray:
        """``(B, N)`` bool: True where a node exists (its op is not :data:`PAD`)."""
        return self.ops != PAD

    def onehot(self, num_ops: int) -> np.ndarray:
        """``(B, N, K)`` float32 one-hot ops; padding nodes are all-zero rows."""
        out = np.zeros((*self.ops.shape, num_ops), dtype=np.float32)
        b, n = np.nonzero(self.ops != PAD)
        out[b, n, self.ops[b, n]] = 1.0
        return out

    def symmetric(self) -> np.ndarray:
        """``(B, N, N)`` float32 ``A + A^T``: the undirected adjacency the GIN encoder reads."""
        a = self.adjacency.astype(np.float32)
        return a + a.transpose(0, 2, 1)

    def equals(self, other: Cells) -> np.ndarray:
        """``(B,)`` bool: cell-wise identical adjacency and ops (broadcasts a batch of one)."""
        same_adj = (self.adjacency == other.adjacency).all(axis=(1, 2))
        return same_adj & (self.ops == other.ops).all(axis=1)


def edit_distance(a: Cells, b: Cells) -> np.ndarray:
    """Edit distance as the arch2vec paper uses it: differing adjacency entries plus differing ops.

    Both batches must have the same node count; a batch of one broadcasts against the other.
    Returns ``(B,)`` int64.
    """
    if a.num_nodes != b.num_nodes:
        raise ValueError(
            f"edit_distance: cells have {a.num_nodes} and {b.num_nodes} nodes; "
            "compare cells of one space"
        )
    if len(a) != len(b) and 1 not in (len(a), len(b)):
        raise ValueError(f"edit_distance: batch sizes {len(a)} and {len(b)} do not broadcast")
    adj = (a.adjacency != b.adjacency).sum(axis=(1, 2), dtype=np.int64)
    ops = (a.ops != b.ops).sum(axis=1, dtype=np.int64)
    return adj + ops
