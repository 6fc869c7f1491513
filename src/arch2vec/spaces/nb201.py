"""NAS-Bench-201: arch strings, arch2vec's canonical cell order and the 8-node op-on-node DAG.

An NB-201 cell has four nodes (0 the input, 3 the output) and one operation on each of the six
edges ``j -> k`` (``j < k``). Its arch string lists them as three ``+``-separated groups, one per
node ``k = 1, 2, 3``, each naming the edges from nodes ``0 .. k-1`` as ``op~src``::

    |nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|

so the six edge ops in arch-string order are ``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2``.

**Canonical order (arch2vec's own).** A cell's pool index is its six edge ops read as a base-5
number, first edge most significant, with digits ``none=0 skip_connect=1 nor_conv_1x1=2
nor_conv_3x3=3 avg_pool_3x3=4``. This equals ``int(op_key, 5)`` for the ``op_key`` column of the
merged NB-201 table. The official NAS-Bench-201 index order is a shuffle that cannot be derived
from the cell; data carrying it is mapped onto the canonical order by arch string.

**DAG (the arch2vec paper's op-on-node form, its Figure 7).** Node 0 is the input, nodes 1..6 are
the six edge ops in arch-string order, node 7 the output. An edge op ``i -> j`` feeds every edge op
leaving NB-201 node ``j``; edge ops leaving node 0 read the input, edge ops entering node 3 feed the
output. That gives the fixed :data:`ADJACENCY`; only the op labels differ between cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import Cells
from arch2vec.spaces.hashing import wl_hash

EDGE_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""Official NB-201 op names; position = base-5 digit of the canonical order."""

OPS = ("input", "conv1x1", "conv3x3", "avgpool3x3", "skip", "none", "output")
"""Op vocabulary of the 8-node DAG."""

NUM_CELLS = 5**6
NUM_NODES = 8

_DAG_NAME = {
    "none": "none",
    "skip_connect": "skip",
    "nor_conv_1x1": "conv1x1",
    "nor_conv_3x3": "conv3x3",
    "avg_pool_3x3": "avgpool3x3",
}
_DIGIT_TO_OP = np.array([OPS.index(_DAG_NAME[o]) for o in EDGE_OPS], dtype=np.int8)
_OP_TO_DIGIT = np.full(len(OPS), -1, dtype=np.int64)
_OP_TO_DIGIT[_DIGIT_TO_OP] = np.arange(len(EDGE_OPS))
_POWERS = 5 ** np.arange(5, -1, -1, dtype=np.int64)

_EDGE_ENDS = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""NB-201 edge ``(src, dst)`` of DAG nodes 1..6."""


def _dag_adjacency() -> np.ndarray:
    a = np.zeros((NUM_NODES, NUM_NODES), dtype=np.uint8)
    for i, (src, dst) in enumerate(_EDGE_ENDS, start=1):
        if src == 0:
            a[0, i] = 1
        if dst == 3:
            a[i, NUM_NODES - 1] = 1
        for j, (src2, _) in enumerate(_EDGE_ENDS, start=1):
            if src2 == dst:
                a[i, j] = 1
    return a


ADJACENCY = np.zeros((NUM_NODES, NUM_NODES), dtype=np.uint8)
for _i, _j in ((0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7)):
    ADJACENCY[_i, _j] = 1
ADJACENCY.setflags(write=False)
assert (ADJACENCY == _dag_adjacency()).all(), "ADJACENCY disagrees with the wiring rule"


def parse_arch_str(s: str) -> tuple[str, ...]:
    """The six edge ops of an NB-201 arch string, in arch-string order."""

    def bad(why: str) -> ValueError:
        return ValueError(f"arch string {s!r}: {why}")

    if not isinstance(s, str):
        raise ValueError(f"arch string {s!r}: expected a str, got {type(s).__name__}")
    groups = s.split("+")
    if len(groups) != 3:
        raise bad(f"expected 3 '+'-separated groups, got {len(groups)}")
    ops: list[str] = []
    for k, group in enumerate(groups, start=1):
        if len(group) < 2 or not (group.startswith("|") and group.endswith("|")):
            raise bad(f"group {k} must start and end with '|', got {group!r}")
        edges = group[1:-1].split("|")
        srcs = [e.rpartition("~")[2] if "~" in e else None for e in edges]
        if srcs != [str(j) for j in range(k)]:
            want = " and ".join(f"~{j}" for j in range(k)) if k > 1 else "~0"
            raise bad(f"group {k} must list edges {want}, got {group!r}")
        for e in edges:
            op = e.rpartition("~")[0]
            if op not in EDGE_OPS:
                raise bad(f"group {k}: unknown op {op!r} (expected one of {', '.join(EDGE_OPS)})")
            ops.append(op)
    return tuple(ops)


def format_arch_str(ops6: Sequence[str]) -> str:
    """The arch string of six edge ops given in arch-string order."""
    ops6 = tuple(ops6)
    if len(ops6) != 6:
        raise ValueError(f"format_arch_str: expected 6 edge ops, got {len(ops6)}")
    unknown = [o for o in ops6 if o not in EDGE_OPS]
    if unknown:
        raise ValueError(
            f"format_arch_str: unknown op {unknown[0]!r} (expected one of {', '.join(EDGE_OPS)})"
        )
    groups = (ops6[0:1], ops6[1:3], ops6[3:6])
    return "+".join("|" + "|".join(f"{o}~{j}" for j, o in enumerate(g)) + "|" for g in groups)


def _digits(indices: np.ndarray) -> np.ndarray:
    """``(B, 6)`` base-5 digits of canonical indices (first edge most significant)."""
    return (indices[:, None] // _POWERS) % 5


@lru_cache(maxsize=1)
def _all_arch_strs() -> tuple[tuple[str, ...], dict[str, int]]:
    digits = _digits(np.arange(NUM_CELLS))
    strs = tuple(format_arch_str([EDGE_OPS[d] for d in row]) for row in digits.tolist())
    return strs, {s: i for i, s in enumerate(strs)}


def index_of(arch_strs: Iterable[str] | str) -> np.ndarray:
    """``(B,)`` int64 canonical indices of arch strings (a bare ``str`` gives a batch of one)."""
    if isinstance(arch_strs, str):
        arch_strs = [arch_strs]
    lookup = _all_arch_strs()[1]
    out = []
    for s in arch_strs:
        i = lookup.get(s) if isinstance(s, str) else None
        if i is None:  # not a well-formed string: parse it for the error (or a lenient match)
            i = int(np.asarray([EDGE_OPS.index(o) for o in parse_arch_str(s)]) @ _POWERS)
        out.append(i)
    return np.asarray(out, dtype=np.int64)


def arch_str_of(indices: Iterable[int] | int) -> list[str]:
    """Arch strings of canonical indices."""
    idx = np.atleast_1d(np.asarray(indices))
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"arch_str_of: expected integer indices, got dtype {idx.dtype}")
    idx = idx.astype(np.int64).ravel()
    out_of_range = (idx < 0) | (idx >= NUM_CELLS)
    if out_of_range.any():
        raise ValueError(
            f"arch_str_of: index {int(idx[out_of_range][0])} is outside 0..{NUM_CELLS - 1}"
        )
    strs = _all_arch_strs()[0]
    return [strs[i] for i in idx.tolist()]


def _live_nodes(ops: np.ndarray) -> np.ndarray:
    """``(B, 8)`` bool: the nodes on a path from the input to the output through no ``none``
    op (none where the output is cut off)."""
    on = ops != OPS.index("none")
    edge = ADJACENCY.astype(bool)
    forward = np.zeros(ops.shape, dtype=bool)
    forward[:, 0] = True
    for j in range(1, NUM_NODES):
        forward[:, j] = on[:, j] & (forward[:, :j] & edge[:j, j]).any(axis=1)
    backward = np.zeros(ops.shape, dtype=bool)
    backward[:, -1] = True
    for i in range(NUM_NODES - 2, -1, -1):
        backward[:, i] = on[:, i] & (backward[:, i + 1 :] & edge[i, i + 1 :]).any(axis=1)
    live = forward & backward
    return live & live[:, -1:]


def _cells_of(indices: np.ndarray) -> Cells:
    n = len(indices)
    ops = np.empty((n, NUM_NODES), dtype=np.int8)
    ops[:, 0] = OPS.index("input")
    ops[:, 1:7] = _DIGIT_TO_OP[_digits(indices)]
    ops[:, 7] = OPS.index("output")
    adjacency = np.broadcast_to(ADJACENCY, (n, NUM_NODES, NUM_NODES)).copy()
    return Cells(adjacency, ops, "nb201")


class NB201Space(SearchSpace):
    """NAS-Bench-201 as 8-node op-on-node DAGs, 15,625 cells in canonical (base-5) order."""

    name = "nb201"
    num_nodes = NUM_NODES
    native_key = "arch_str"
    native_help = "an arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|"
    hash_cache = True
    ops = OPS

    def __init__(self, data_dir: str | Path | None = None) -> None:
        super().__init__(data_dir)

    def size(self) -> int:
        return NUM_CELLS

    def all(self) -> Cells:
        return _cells_of(np.arange(NUM_CELLS, dtype=np.int64))

    def is_valid(self, cells: Cells) -> np.ndarray:
        if cells.num_nodes != NUM_NODES:
            return np.zeros(len(cells), dtype=bool)
        ok = (cells.adjacency == ADJACENCY).all(axis=(1, 2))
        ok &= cells.ops[:, 0] == OPS.index("input")
        ok &= cells.ops[:, -1] == OPS.index("output")
        ok &= np.isin(cells.ops[:, 1:-1], _DIGIT_TO_OP).all(axis=1)
        return ok

    def hash(self, cells: Cells) -> np.ndarray:
        out = np.full(len(cells), "", dtype="<U32")
        valid = self.is_valid(cells)
        if valid.any():
            out[valid] = wl_hash(cells.adjacency[valid], cells.ops[valid])
        return out

    def functional(self, cells: Cells) -> tuple[Cells, np.ndarray]:
        """NB-201 cells that differ only in parts no input-to-output path uses build the same
        network (a ``none`` op cuts its edge; an op whose node has no path from the input or
        none to the output only feeds or reads zeros). The canonical form sets the op of every
        such node to ``none`` (every inner node where the output is cut off from the input);
        the function hash is the NB-101 graph hash of the live nodes only (input, output and
        the inner nodes on a path), so isomorphic live graphs share it too: 8,765 networks
        among the 15,625 cells."""
        valid = self.is_valid(cells)
        if not valid.all():
            bad = int(np.flatnonzero(~valid)[0])
            raise ValueError(f"nb201: cell {bad} is not a valid NB-201 cell")
        live = _live_nodes(cells.ops)
        ops = cells.ops.copy()
        inner = np.zeros(NUM_NODES, dtype=bool)
        inner[1:-1] = True
        ops[~live & inner[None, :]] = OPS.index("none")
        count = live.sum(axis=1)
        order = np.argsort(~live, axis=1, kind="stable")  # live nodes first, in node order
        rows = np.arange(len(ops))[:, None]
        adjacency = ADJACENCY[order[:, :, None], order[:, None, :]].astype(np.uint8)
        keep = np.arange(NUM_NODES)[None, :] < count[:, None]
        adjacency *= (keep[:, :, None] & keep[:, None, :]).astype(np.uint8)
        labels = np.where(keep, cells.ops[rows, order], 0)
        # the output (the last live node) is always live: a cut-off cell keeps input -> output
        dead = ~live[:, -1]
        adjacency[dead] = 0
        adjacency[dead, 0, 1] = 1
        hashes = wl_hash(adjacency, labels, np.where(dead, 2, count))
        return Cells(cells.adjacency.copy(), ops, self.name), hashes

    def _indices(self, cells: Cells) -> np.ndarray:
        valid = self.is_valid(cells)
        if not valid.all():
            bad = int(np.flatnonzero(~valid)[0])
            raise ValueError(f"nb201: cell {bad} is not a valid NB-201 cell")
        return _OP_TO_DIGIT[cells.ops[:, 1:-1].astype(np.int64)] @ _POWERS

    def to_native(self, cells: Cells) -> list[str]:
        return arch_str_of(self._indices(cells))

    def from_native(self, items: list[str]) -> Cells:
        return _cells_of(index_of(items))
