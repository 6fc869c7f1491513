"""NAS-Bench-101: cells of up to 7 nodes and 9 edges, three ops, 423,624 cells.

Encoding (the arch2vec paper's): a 7 x 7 adjacency and 7 op indices into
``OPS = (input, conv1x1-bn-relu, conv3x3-bn-relu, maxpool3x3, output)``. A cell with ``n < 7``
nodes keeps its own order: node 0 is the input, node ``n - 1`` the output, and nodes ``n..6`` are
padding (op :data:`~arch2vec.spaces.cells.PAD`, no edges; all-zero one-hot rows), as in the
paper's reference encoding. So the output node sits at index ``n - 1``, not always at 6.

Cells are stored pruned, exactly as the official ``ModelSpec`` prunes them: vertices that are not
on a path from the input to the output are removed. The hash is the official one of the pruned
cell (see :mod:`arch2vec.spaces.hashing`).

Enumeration (:func:`enumerate_cells`) finds every cell once, by exact isomorphism classes instead
of the official generator's hash-everything loop: for each vertex count ``n`` it takes every
upper-triangular matrix with at most 9 edges and no dangling vertex, groups the matrices into
isomorphism classes by the minimum of their codes over all permutations of the ``n - 2`` inner
vertices, and keeps per class the first matrix in the official bit order. The labelings of a
representative that are equivalent under its automorphisms give the same cell, so only the
labeling that is smallest in its orbit is kept. The result has one cell per isomorphism class;
each is hashed and the hashes are checked to be distinct. Canonical order (pool index): by vertex
count, then representative matrix in the official generator's bit order, then the inner ops read
as a base-3 number in the official label order (conv3x3 < conv1x1 < maxpool, first vertex most
significant).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from arch2vec import io
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import PAD, Cells, check_adjacency
from arch2vec.spaces.enumerate import labelled_classes
from arch2vec.spaces.hashing import all_distinct, hex_digests, wl_digests

OPS = ("input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output")
INPUT, CONV1X1, CONV3X3, MAXPOOL, OUTPUT = range(5)
MAX_VERTICES = 7
MAX_EDGES = 9
NUM_CELLS = 423_624
CACHE_FORMAT = 1

# Official labels (graph_util / ModelSpec.hash_spec): input -1, output -2, and inner ops indexed
# in the official available_ops order [conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3].
_OFFICIAL_LABEL = np.array([-1, 1, 0, 2, -2])  # indexed by our op index
_INNER_FROM_OFFICIAL = np.array([CONV3X3, CONV1X1, MAXPOOL])  # official inner label -> our op


def enumerate_cells(workers: int | None = None) -> tuple[Cells, np.ndarray]:
    """Every NAS-Bench-101 cell once, in canonical order, with its official hash.

    ``workers`` processes share the hashing (default: one per CPU core).
    """
    adjacency, ops, digests = _enumerate(workers)
    return Cells(adjacency, ops, "nb101"), hex_digests(digests)


def _enumerate(
    workers: int | None = None, progress: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`enumerate_cells` as plain arrays, the cache's form: ``(B, 7, 7)`` uint8 adjacency,
    ``(B, 7)`` int8 ops and ``(B, 16)`` raw hash digests (valid by construction: no ``Cells``
    validation pass over the 423,624 cells)."""
    adjs, opss = [], []
    for n in range(2, MAX_VERTICES + 1):
        adj, inner = labelled_classes(n, 3, MAX_EDGES)
        padded = np.zeros((len(adj), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        padded[:, :n, :n] = adj
        ops = np.full((len(adj), MAX_VERTICES), PAD, dtype=np.int8)
        ops[:, 0] = INPUT
        ops[:, 1 : n - 1] = _INNER_FROM_OFFICIAL[inner]
        ops[:, n - 1] = OUTPUT
        adjs.append(padded)
        opss.append(ops)
    adjacency, ops = np.concatenate(adjs), np.concatenate(opss)
    digests = _digests(adjacency, ops, workers, progress)
    if not all_distinct(digests):
        raise RuntimeError("NAS-Bench-101 enumeration: two classes share a hash")
    return adjacency, ops, digests


def prune(cells: Cells) -> tuple[Cells, np.ndarray]:
    """Prune like the official ``ModelSpec``: drop vertices not on an input-to-output path.

    Each cell's real vertices are ``0..n-1`` (ops after the first padding are ignored); vertex 0 is
    the input and ``n - 1`` the output. Returns the pruned cells, re-padded to the same size with
    kept vertices in their original order, and ``(B,)`` bool ``connected`` (False where the output
    is not reachable from the input; such cells come back empty, all padding).
    """
    adj = cells.adjacency.astype(bool)
    batch, size = cells.ops.shape
    n = _num_vertices(cells.ops)
    idx = np.arange(size)
    real = idx[None, :] < n[:, None]
    adj = adj & real[:, :, None] & real[:, None, :]
    fwd = np.zeros((batch, size), dtype=bool)
    fwd[:, 0] = True
    bwd = np.zeros((batch, size), dtype=bool)
    bwd[np.arange(batch), np.maximum(n - 1, 0)] = True
    for _ in range(size):
        fwd |= (fwd[:, :, None] & adj).any(axis=1)
        bwd |= (adj & bwd[:, None, :]).any(axis=2)
    keep = fwd & bwd & real & (n >= 2)[:, None]
    connected = keep.any(axis=1)
    # stable compaction: kept vertices move to the front in order
    order = np.argsort(~keep, axis=1, kind="stable")
    rows = np.arange(batch)[:, None]
    new_adj = adj[rows[:, :, None], order[:, :, None], order[:, None, :]]
    kept = np.take_along_axis(keep, order, axis=1)
    new_adj &= kept[:, :, None] & kept[:, None, :]
    new_ops = np.where(kept, np.take_along_axis(cells.ops, order, axis=1), PAD)
    # numpy's stubs type any(axis=1) as np.bool | NDArray (they do not know the array's rank)
    return Cells(new_adj.astype(np.uint8), new_ops.astype(np.int8), cells.space), connected  # type: ignore[return-value, unused-ignore]


def _num_vertices(ops: np.ndarray) -> np.ndarray:
    """Number of leading non-padding nodes per cell."""
    is_pad = ops == PAD
    return np.where(is_pad.any(axis=1), is_pad.argmax(axis=1), ops.shape[1])


def _digests(
    adjacency: np.ndarray, ops: np.ndarray, workers: int | None = None, progress: bool = False
) -> np.ndarray:
    """Official hashes of pruned cells (as arrays) as ``(B, 16)`` raw digests."""
    labels = _OFFICIAL_LABEL[np.where(ops == PAD, 0, ops)]
    return wl_digests(adjacency, labels, _num_vertices(ops), workers, progress)


def _hash_pruned(pruned: Cells, workers: int | None = None) -> np.ndarray:
    return hex_digests(_digests(pruned.adjacency, pruned.ops, workers))


def _pack(adjacency: np.ndarray) -> np.ndarray:
    """``(B, 7, 7)`` adjacency -> ``(B,)`` int32 codes: bit ``k`` is the ``k``-th triu entry."""
    src, dst = np.triu_indices(MAX_VERTICES, k=1)
    bits = adjacency[:, src, dst].astype(np.int32)
    return (bits << np.arange(len(src), dtype=np.int32)).sum(axis=1, dtype=np.int32)


def _unpack(codes: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_pack`: the bits of each code's little-endian bytes, in order."""
    src, dst = np.triu_indices(MAX_VERTICES, k=1)
    raw = np.ascontiguousarray(codes, dtype="<i4").view(np.uint8).reshape(len(codes), 4)
    adj = np.zeros((len(codes), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    adj[:, src, dst] = np.unpackbits(raw, axis=1, bitorder="little")[:, : len(src)]
    return adj


class NB101Space(SearchSpace):
    """The NAS-Bench-101 space; ``all()`` enumerates it once and caches it under the data dir."""

    name = "nb101"
    num_nodes = MAX_VERTICES
    ops = OPS
    padded = True

    def __init__(self, data_dir: str | Path | None = None) -> None:
        super().__init__(data_dir)
        self._cells: Cells | None = None
        self._hashes: np.ndarray | None = None

    def size(self) -> int:
        return NUM_CELLS

    @property
    def cache_path(self) -> Path:
        return io.data_dir(self.data_dir) / "nb101_cells.npz"

    def build(
        self,
        rebuild: bool = False,
        log=None,
        workers: int | None = None,
        progress: bool = False,
    ) -> Cells:
        """Load the enumerated space from the cache, (re)building it if missing or corrupt
        (``progress``: count the cells hashed while building)."""

        def make() -> dict[str, np.ndarray]:
            adjacency, ops, digests = _enumerate(workers, progress)
            return {"adjacency": _pack(adjacency), "ops": ops, "hash": digests}

        expect = {"format": CACHE_FORMAT, "space": self.name, "num_cells": NUM_CELLS}
        arrays = io.cached_arrays(self.cache_path, expect, make, rebuild=rebuild, log=log)
        if len(arrays["ops"]) != NUM_CELLS:
            raise io.CacheError(f"{self.cache_path}: holds {len(arrays['ops'])} cells")
        self._cells = Cells(_unpack(arrays["adjacency"]), arrays["ops"], self.name)
        self._hashes = hex_digests(arrays["hash"])
        return self._cells

    def all(self) -> Cells:
        return self._cells if self._cells is not None else self.build()

    def hashes(self) -> np.ndarray:
        """Official hashes of ``all()``, aligned with pool indices."""
        if self._hashes is None:
            self.build()
        assert self._hashes is not None  # build() sets it
        return self._hashes

    def index_of(self, hashes) -> np.ndarray:
        """Pool index of each official hash; -1 where a hash is not a NAS-Bench-101 cell."""
        return self.index_of_hashes(hashes)

    def prune(self, cells: Cells) -> tuple[Cells, np.ndarray]:
        return prune(cells)

    def is_valid(self, cells: Cells) -> np.ndarray:
        """What the official API's ``is_valid`` answers for each cell.

        The matrix must be 0/1 upper-triangular (checked by :class:`Cells`); padding only at the
        end and without edges; after pruning, the input reaches the output, at most 9 edges remain,
        the first op is input, the last output and every other op is one of the three inner ops.
        """
        n = _num_vertices(cells.ops)
        idx = np.arange(cells.num_nodes)
        pad_ok = np.where(idx[None, :] >= n[:, None], cells.ops == PAD, True).all(axis=1)
        real = idx[None, :] < n[:, None]
        no_pad_edges = ~(cells.adjacency.astype(bool) & ~(real[:, :, None] & real[:, None, :])).any(
            axis=(1, 2)
        )
        pruned, connected = prune(cells)
        m = _num_vertices(pruned.ops)
        rows = np.arange(len(cells))
        first_ok = pruned.ops[:, 0] == INPUT
        last_ok = pruned.ops[rows, np.maximum(m - 1, 0)] == OUTPUT
        inner = (idx[None, :] > 0) & (idx[None, :] < (m - 1)[:, None])
        inner_ok = np.where(inner, np.isin(pruned.ops, (CONV1X1, CONV3X3, MAXPOOL)), True).all(1)
        edges_ok = pruned.num_edges() <= MAX_EDGES
        return pad_ok & no_pad_edges & connected & edges_ok & first_ok & last_ok & inner_ok

    def hash(self, cells: Cells) -> np.ndarray:
        """Official NAS-Bench-101 hash of each (pruned) cell; ``''`` for invalid cells."""
        valid = self.is_valid(cells)
        out = np.full(len(cells), "", dtype="U32")
        if valid.any():
            pruned, _ = prune(cells[np.flatnonzero(valid)])
            out[valid] = _hash_pruned(pruned)
        return out

    def to_native(self, cells: Cells) -> list[dict]:
        """Official ``ModelSpec`` form of each pruned cell: ``{"matrix", "ops"}`` with op names."""
        valid = self.is_valid(cells)
        if not valid.all():
            raise ValueError(f"nb101: cell {int(np.flatnonzero(~valid)[0])} is not a valid cell")
        pruned, _ = prune(cells)
        out = []
        for adj, ops in zip(pruned.adjacency, pruned.ops, strict=True):
            m = int((ops != PAD).sum())
            out.append({"matrix": adj[:m, :m].tolist(), "ops": [OPS[o] for o in ops[:m]]})
        return out

    def from_native(self, items: list[dict]) -> Cells:
        """Cells from ``{"matrix": N x N, "ops": [names]}`` specs (N <= 7), padded to 7 nodes."""
        adj = np.zeros((len(items), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        ops = np.full((len(items), MAX_VERTICES), PAD, dtype=np.int8)
        for k, item in enumerate(items):
            try:
                matrix = _matrix(item["matrix"], f"nb101 cell {k}")
                names = list(item["ops"])
            except (KeyError, TypeError):
                raise ValueError(
                    f"nb101 cell {k}: expected {{'matrix': ..., 'ops': [...]}}"
                ) from None
            m = matrix.shape[0]
            if m > MAX_VERTICES or len(names) != m:
                raise ValueError(
                    f"nb101 cell {k}: {m} x {m} matrix with {len(names)} ops; "
                    f"expected N x N with N ops, N <= {MAX_VERTICES}"
                )
            unknown = [o for o in names if o not in OPS]
            if unknown:
                raise ValueError(
                    f"nb101 cell {k}: unknown op {unknown[0]!r}; expected one of {OPS}"
                )
            adj[k, :m, :m] = matrix
            ops[k, :m] = [OPS.index(o) for o in names]
        return Cells(adj, ops, self.name)


def _matrix(value, what: str) -> np.ndarray:
    """A square 0/1 strictly upper-triangular matrix from nested lists, or a one-line error."""
    try:
        matrix = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: matrix is not numeric") from None
    return check_adjacency(matrix, f"{what} matrix")[0]
