"""The DARTS search space: genotypes, the paper's 11-node DAG, validity, hashing and a sampled pool.

**Genotype.** A DARTS cell has four intermediate nodes; node ``j`` combines two ``(input, op)``
pairs. Inputs are ``0`` = ``c_{k-2}``, ``1`` = ``c_{k-1}`` and ``2 + i`` = intermediate node ``i``,
so node ``j`` may read inputs ``0 .. j + 1``. Ops are :data:`GENOTYPE_OPS`. One cell serves as both
the normal and the reduction cell. The native text form is DARTS's ``Genotype.normal`` list, eight
``(op, input)`` tuples, two per node in node order::

    [('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ...]

The array form is ``(B, 4, 2, 2)`` int8 indexed ``[cell, node, pair, field]`` with field 0 the
input and field 1 the op (an index into :data:`GENOTYPE_OPS`). A genotype is *canonical* when each
node's two pairs are sorted by ``(input, op)``: the order of a node's two inputs does not change
the cell. Like the DARTS derivation (which keeps the two strongest edges from distinct
predecessors), the two pairs of one node must read two *distinct* inputs; :func:`parse_genotype`
rejects text that repeats an input within a node. The space then holds
``(1 + 3 + 6 + 10) * 7**8`` = 115,296,020 canonical cells (:data:`SPACE_SIZE`).

**DAG** (the arch2vec paper's encoding, :data:`NUM_NODES` = 11). Node 0 is ``c_{k-2}``, node 1 is
``c_{k-1}``, nodes 2..9 are the eight ops (node ``j``'s pairs at ``2 + 2j`` and ``3 + 2j``) and
node 10 is ``c_k``. Node types index :data:`NODE_TYPES` (``skip_connect`` is ``identity``;
``zero`` is in the vocabulary but never in a cell of the space). An op node reading ``c_{k-2}`` /
``c_{k-1}`` gets an edge from node 0 / 1; one reading intermediate node ``i`` gets edges from both
of ``i``'s op nodes; every op node feeds ``c_k``. :func:`genotypes_to_cells` and
:func:`cells_to_genotypes` convert by node position, so genotype -> DAG -> genotype is the
identity (the DAG keeps pair order; canonicalise first to get one DAG per cell).

**Validity.** :meth:`DartsSpace.is_valid` applies the paper's six checks of a decoded cell
(:func:`paper_validity_checks`, :data:`PAPER_RULES`, following the authors' public
``is_valid_darts``): the node types of ``c_{k-2}``, ``c_{k-1}`` and ``c_k``, an operation on every
op node, and for each intermediate node an in-edge from an earlier node into both of its op
nodes. The stricter **genotype rules** (:func:`validity_checks`, :data:`VALIDITY_RULES`) hold
exactly when the DAG is the image of one genotype; they guard conversion back to a genotype.
They tighten the paper's checks so that every DAG passing them decodes to a legal genotype:

1. ``roles``: node 0 is ``c_{k-2}``, node 1 is ``c_{k-1}``, node 10 is ``c_k``;
2. ``op_types``: nodes 2..9 each carry one of the seven genotype ops (not ``zero``, not a ``c``);
3. ``inputs_unwired``: no edge ``c_{k-2} -> c_{k-1}`` and neither input feeds ``c_k`` directly;
4. ``ops_feed_output``: every op node feeds ``c_k``;
5. ``one_input``: each op node's in-edges are exactly one input: ``{0}``, ``{1}`` or both op
   nodes ``{2 + 2i, 3 + 2i}`` of one intermediate node ``i`` (the strictly upper-triangular
   adjacency already makes ``i`` earlier than the reading node, so the input is legal for it);
6. ``distinct_inputs``: the two op nodes of one intermediate node read different inputs.

These rules cover every possible edge of an 11-node upper-triangular DAG: ``0 -> 1`` (3),
input -> op node (5), input -> ``c_k`` (3), op -> op (5) and op -> ``c_k`` (4).

**Hash.** :meth:`DartsSpace.hash` is the MD5 hex digest of the canonical genotype's 16 int8 bytes
(``(4, 2, 2)`` C order). It is not the NAS-Bench-101 style graph hash of the DAG, for two reasons:
the DAG does not determine how op nodes pair up into intermediate nodes when those nodes are never
used as inputs (re-pairing such op nodes gives an isomorphic DAG but a different cell, so the
isomorphism-invariant graph hash would merge distinct cells), and its 11 rounds of per-vertex MD5
are too slow for 600,000 cells. Invalid cells hash to ``''``.

**Sampled pool.** :func:`sample_genotypes` draws each node's two inputs as a uniformly random
*unordered pair of distinct* allowed inputs and each op uniformly from the seven ops, independently
per node and pair. That is the uniform distribution over the canonical cells of the space; drawing
until ``n`` distinct cells are found (first occurrence kept) makes the pool a uniform sample
without replacement. Draws come in fixed chunks, so a seed's pool of ``n`` cells is the first ``n``
cells of the pool of any larger size. :class:`DartsSpace` caches the pool (600,000 cells by
default, as in the paper) as canonical genotypes in ``data_dir()/darts_{samples}_{seed}.npz``.
"""

from __future__ import annotations

import ast
import hashlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import checks, io
from arch2vec.spaces.base import MAX_POOL_CELLS, SearchSpace
from arch2vec.spaces.cells import Cells
from arch2vec.spaces.hashing import wl_hash

GENOTYPE_OPS = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
"""The seven ops of a DARTS genotype (DARTS's PRIMITIVES without ``none``), in array order."""

NODE_TYPES = (
    "c_{k-2}",
    "c_{k-1}",
    "zero",
    "max_pool_3x3",
    "avg_pool_3x3",
    "identity",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
    "c_{k}",
)
"""Node-type vocabulary of the DAG; genotype op ``o`` is node type ``o + 3``."""

NUM_NODES = 11
NUM_STEPS = 4
OP_OFFSET = 3
INPUT_K2, INPUT_K1, ZERO, OUTPUT = 0, 1, 2, 10
SPACE_SIZE = (1 + 3 + 6 + 10) * len(GENOTYPE_OPS) ** 8
CACHE_FORMAT = 1
CHUNK = 1 << 17
VALIDITY_RULES = (
    "roles",
    "op_types",
    "inputs_unwired",
    "ops_feed_output",
    "one_input",
    "distinct_inputs",
)

_NUM_INPUTS = np.arange(NUM_STEPS) + 2  # allowed inputs of node j: 0 .. j + 1
# In-edge bitmask (bit r = edge from node r) that each input gives an op node, and its inverse.
_INPUT_MASK = np.array(
    [1 << 0, 1 << 1] + [(1 << (2 + 2 * i)) | (1 << (3 + 2 * i)) for i in range(NUM_STEPS - 1)]
)
_MASK_TO_INPUT = np.full(1 << NUM_NODES, -1, dtype=np.int8)
_MASK_TO_INPUT[_INPUT_MASK] = np.arange(len(_INPUT_MASK))
_SOURCES = ((_INPUT_MASK[:, None] >> np.arange(NUM_NODES)) & 1).astype(np.uint8)  # input -> rows

_logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- text form


def _bad(text: Any, problem: str) -> ValueError:
    shown = repr(text)
    if len(shown) > 200:
        shown = shown[:197] + "..."
    return ValueError(f"invalid DARTS genotype {shown}: {problem}")


def parse_genotype(text: str) -> np.ndarray:
    """Parse DARTS's ``normal`` list text into a ``(4, 2, 2)`` int8 genotype (pair order kept).

    Raises a one-line ``ValueError`` naming the text and the problem.
    """
    try:
        items = ast.literal_eval(text.strip()) if isinstance(text, str) else None
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise _bad(text, "not a Python literal list of (op, input) pairs") from None
    if not isinstance(items, (list, tuple)):
        raise _bad(text, "expected a list of 8 (op, input) pairs")
    if len(items) != 2 * NUM_STEPS:
        raise _bad(text, f"expected 8 (op, input) pairs (two per node), got {len(items)}")
    out = np.empty((NUM_STEPS, 2, 2), dtype=np.int8)
    for k, pair in enumerate(items):
        node = k // 2
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise _bad(text, f"pair {k} is not an (op, input) pair: {pair!r}")
        op, inp = pair
        if op not in GENOTYPE_OPS:
            raise _bad(
                text, f"pair {k}: unknown op {op!r} (expected one of {', '.join(GENOTYPE_OPS)})"
            )
        if isinstance(inp, bool) or not isinstance(inp, int):
            raise _bad(text, f"pair {k}: input {inp!r} is not an integer")
        if not 0 <= inp <= node + 1:
            raise _bad(text, f"pair {k}: input {inp} out of range 0..{node + 1} for node {node}")
        out[node, k % 2] = (inp, GENOTYPE_OPS.index(op))
    same = np.flatnonzero(out[:, 0, 0] == out[:, 1, 0])
    if len(same):
        raise _bad(text, f"node {same[0]} reads input {out[same[0], 0, 0]} twice")
    return out


def format_genotype(genotype: np.ndarray) -> str:
    """The DARTS ``normal`` list text of one ``(4, 2, 2)`` genotype (pair order kept)."""
    g = np.asarray(genotype).reshape(2 * NUM_STEPS, 2)
    return "[" + ", ".join(f"({GENOTYPE_OPS[int(o)]!r}, {int(i)})" for i, o in g) + "]"


# --------------------------------------------------------------------------- array forms


def _as_genotypes(genotypes: np.ndarray) -> np.ndarray:
    g = np.asarray(genotypes)
    if g.ndim == 3:
        g = g[None]
    if g.shape[1:] != (NUM_STEPS, 2, 2):
        raise ValueError(f"genotypes: expected shape (B, 4, 2, 2), got {np.shape(genotypes)}")
    return g.astype(np.int8)


def check_genotypes(genotypes: np.ndarray) -> np.ndarray:
    """``(B,)`` bool: input in range for its node, op in range, the node's two inputs distinct."""
    g = _as_genotypes(genotypes)
    inp, op = g[..., 0], g[..., 1]
    ok = ((inp >= 0) & (inp < _NUM_INPUTS[:, None])).all(axis=(1, 2))
    ok &= ((op >= 0) & (op < len(GENOTYPE_OPS))).all(axis=(1, 2))
    return ok & (inp[:, :, 0] != inp[:, :, 1]).all(axis=1)


def canonical_genotypes(genotypes: np.ndarray) -> np.ndarray:
    """Each node's two pairs sorted by ``(input, op)``; ``(B, 4, 2, 2)`` int8 (a new array)."""
    g = _as_genotypes(genotypes).copy()
    key = g[..., 0].astype(np.int16) * 8 + g[..., 1]
    swap = key[..., 0] > key[..., 1]
    g[swap] = g[swap][:, ::-1]
    return g


def genotype_keys(genotypes: np.ndarray) -> np.ndarray:
    """``(B,)`` int64: the pairs packed 6 bits each (input 3 bits, op 3 bits) in position order."""
    g = _as_genotypes(genotypes).reshape(-1, 2 * NUM_STEPS, 2).astype(np.int64)
    codes = (g[..., 0] << 3) | g[..., 1]
    return (codes << (6 * np.arange(2 * NUM_STEPS, dtype=np.int64))).sum(axis=1)


def genotypes_to_cells(genotypes: np.ndarray, space: str = "darts") -> Cells:
    """``(B, 4, 2, 2)`` genotypes -> 11-node DAG ``Cells`` by node position (no canonicalising)."""
    g = _as_genotypes(genotypes)
    if not check_genotypes(g).all():
        bad = int(np.flatnonzero(~check_genotypes(g))[0])
        raise ValueError(f"genotypes: genotype {bad} is not a legal DARTS genotype")
    b = len(g)
    flat = g.reshape(b, 2 * NUM_STEPS, 2)
    adj = np.zeros((b, NUM_NODES, NUM_NODES), dtype=np.uint8)
    adj[:, :, 2:10] = _SOURCES[flat[..., 0]].transpose(0, 2, 1)
    adj[:, 2:10, OUTPUT] = 1
    ops = np.empty((b, NUM_NODES), dtype=np.int8)
    ops[:, 0], ops[:, 1], ops[:, OUTPUT] = INPUT_K2, INPUT_K1, OUTPUT
    ops[:, 2:10] = flat[..., 1] + OP_OFFSET
    return Cells(adj, ops, space)


def _op_node_inputs(cells: Cells) -> np.ndarray:
    """``(B, 8)`` int8: the input each op node reads, -1 where its in-edges match no input."""
    weights = 1 << np.arange(NUM_NODES, dtype=np.int32)
    masks = np.einsum("bij,i->bj", cells.adjacency[:, :, 2:10], weights, dtype=np.int32)
    return _MASK_TO_INPUT[masks]


def validity_checks(cells: Cells) -> np.ndarray:
    """``(B, 6)`` bool: each rule of :data:`VALIDITY_RULES` (see the module docstring) holds."""
    out = np.zeros((len(cells), len(VALIDITY_RULES)), dtype=bool)
    if cells.num_nodes != NUM_NODES:
        return out
    a, t = cells.adjacency, cells.ops
    out[:, 0] = (t[:, 0] == INPUT_K2) & (t[:, 1] == INPUT_K1) & (t[:, OUTPUT] == OUTPUT)
    out[:, 1] = ((t[:, 2:10] >= OP_OFFSET) & (t[:, 2:10] < OUTPUT)).all(axis=1)
    out[:, 2] = (a[:, 0, 1] == 0) & (a[:, 0, OUTPUT] == 0) & (a[:, 1, OUTPUT] == 0)
    out[:, 3] = (a[:, 2:10, OUTPUT] == 1).all(axis=1)
    inp = _op_node_inputs(cells)
    out[:, 4] = (inp >= 0).all(axis=1)
    first, second = inp[:, 0::2], inp[:, 1::2]
    out[:, 5] = ~((first == second) & (first >= 0)).any(axis=1)
    return out


def is_valid_cells(cells: Cells) -> np.ndarray:
    """``(B,)`` bool: all six genotype rules hold (the DAG is the image of a genotype)."""
    return validity_checks(cells).all(axis=1)  # type: ignore[return-value, unused-ignore]  # numpy: rank unknown


PAPER_RULES = ("node_types", "op_types", "step0_input", "step1_input", "step2_input", "step3_input")


def paper_validity_checks(cells: Cells) -> np.ndarray:
    """``(B, 6)`` bool: the paper's six validity checks of a decoded DARTS cell.

    As the arch2vec paper (Appendix B) and its reference code judge decoded cells: (1) nodes 0
    and 1 are ``c_{k-2}`` and ``c_{k-1}`` and node 10 is ``c_k``; (2) nodes 2..9 carry an
    operation (``zero`` included); (3)-(6) for each intermediate node ``j``, both of its op nodes
    ``2 + 2j`` and ``3 + 2j`` have at least one in-edge from a node before them (``c_{k-2}``,
    ``c_{k-1}`` or an op node of an earlier intermediate node). Looser than
    :func:`validity_checks`: a DAG can pass these and still not be one genotype.
    """
    out = np.zeros((len(cells), len(PAPER_RULES)), dtype=bool)
    if cells.num_nodes != NUM_NODES:
        return out
    a, t = cells.adjacency, cells.ops
    out[:, 0] = (t[:, 0] == INPUT_K2) & (t[:, 1] == INPUT_K1) & (t[:, OUTPUT] == OUTPUT)
    out[:, 1] = ((t[:, 2:10] >= ZERO) & (t[:, 2:10] < OUTPUT)).all(axis=1)
    for j in range(NUM_STEPS):
        first = 2 + 2 * j
        out[:, 2 + j] = a[:, :first, first : first + 2].any(axis=1).all(axis=1)  # type: ignore[call-overload, unused-ignore]  # numpy: rank unknown
    return out


def cells_to_genotypes(cells: Cells) -> np.ndarray:
    """Valid DAG ``Cells`` -> ``(B, 4, 2, 2)`` int8 genotypes by node position.

    Raises a one-line ``ValueError`` naming the first invalid cell and the rule it breaks.
    """
    checks = validity_checks(cells)
    bad = np.flatnonzero(~checks.all(axis=1))
    if len(bad):
        rules = [VALIDITY_RULES[r] for r in np.flatnonzero(~checks[bad[0]])]
        raise ValueError(
            f"darts: cell {bad[0]} is not a valid DARTS cell (fails {', '.join(rules)})"
        )
    g = np.empty((len(cells), 2 * NUM_STEPS, 2), dtype=np.int8)
    g[..., 0] = _op_node_inputs(cells)
    g[..., 1] = cells.ops[:, 2:10] - OP_OFFSET
    return g.reshape(-1, NUM_STEPS, 2, 2)


def hash_genotypes(genotypes: np.ndarray) -> np.ndarray:
    """``(B,)`` ``<U32``: MD5 hex of each canonical genotype's 16 int8 bytes."""
    g = np.ascontiguousarray(canonical_genotypes(genotypes))
    data = memoryview(g.tobytes())
    md5 = hashlib.md5
    return np.array([md5(data[i : i + 16]).hexdigest() for i in range(0, len(data), 16)], "<U32")


# --------------------------------------------------------------------------- sampling


def _draw_chunk(rng: np.random.Generator, m: int) -> np.ndarray:
    """``m`` canonical genotypes: per node two distinct inputs (unordered) and two uniform ops."""
    a = rng.integers(0, _NUM_INPUTS, size=(m, NUM_STEPS))
    b = rng.integers(0, _NUM_INPUTS - 1, size=(m, NUM_STEPS))
    b += b >= a  # uniform over the allowed inputs other than a
    ops = rng.integers(0, len(GENOTYPE_OPS), size=(m, NUM_STEPS, 2), dtype=np.int8)
    g = np.empty((m, NUM_STEPS, 2, 2), dtype=np.int8)
    g[..., 0, 0] = np.minimum(a, b)
    g[..., 1, 0] = np.maximum(a, b)
    g[..., 1] = ops  # ops are iid, so pairing them with the sorted inputs keeps the distribution
    return g


def sample_genotypes(n: int, seed: int = 0) -> np.ndarray:
    """``n`` distinct canonical genotypes ``(n, 4, 2, 2)`` int8, deterministic for ``seed``.

    Uniform without replacement over the :data:`SPACE_SIZE` cells (see the module docstring).
    """
    if not 0 <= n <= SPACE_SIZE:
        raise ValueError(f"sample_genotypes: n must be between 0 and {SPACE_SIZE}, got {n}")
    rng = np.random.default_rng(seed)
    chunks: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    while True:
        while len(chunks) * CHUNK < n or not chunks:
            chunks.append(_draw_chunk(rng, CHUNK))
            keys.append(genotype_keys(chunks[-1]))
        _, first = np.unique(np.concatenate(keys), return_index=True)
        if len(first) >= n:
            break
        chunks.append(_draw_chunk(rng, CHUNK))
        keys.append(genotype_keys(chunks[-1]))
    keep = np.sort(first)[:n]
    return np.concatenate(chunks)[keep]


# --------------------------------------------------------------------------- the space


class DartsSpace(SearchSpace):
    """The DARTS space as a pool of ``samples`` distinct cells drawn with ``seed`` (cached)."""

    name = "darts"
    num_nodes = NUM_NODES
    native_key = "genotype"
    native_help = "a genotype [('sep_conv_3x3', 0), ('skip_connect', 1), ...] (8 pairs)"
    hash_cache = True
    ops = NODE_TYPES

    def __init__(
        self, data_dir: str | Path | None = None, samples: int = 600_000, seed: int = 0
    ) -> None:
        super().__init__(data_dir)
        samples = checks.integer("samples", samples, 1, min(SPACE_SIZE, MAX_POOL_CELLS))
        seed = checks.seed(seed)
        self.samples = int(samples)
        self.seed = int(seed)
        self._genotypes: np.ndarray | None = None
        self._cells: Cells | None = None

    def size(self) -> int:
        return SPACE_SIZE

    @property
    def cache_path(self) -> Path:
        return io.data_dir(self.data_dir) / f"darts_{self.samples}_{self.seed}.npz"

    def build(
        self, rebuild: bool = False, log: Callable[[str], None] | None = _logger.warning
    ) -> Cells:
        """Load the pool from the cache, (re)sampling it if missing, corrupt or stale."""
        expect = {
            "format": CACHE_FORMAT,
            "space": self.name,
            "samples": self.samples,
            "seed": self.seed,
        }

        def make() -> dict[str, np.ndarray]:
            return {"genotypes": sample_genotypes(self.samples, self.seed)}

        arrays = io.cached_arrays(self.cache_path, expect, make, rebuild=rebuild, log=log)
        g = arrays["genotypes"]
        if g.shape != (self.samples, NUM_STEPS, 2, 2) or not check_genotypes(g).all():
            raise io.CacheError(f"{self.cache_path}: genotypes of shape {g.shape} are not a pool")
        self._genotypes = g
        self._cells = genotypes_to_cells(g, self.name)
        return self._cells

    def all(self) -> Cells:
        return self._cells if self._cells is not None else self.build()

    def genotypes(self) -> np.ndarray:
        """The pool as canonical ``(samples, 4, 2, 2)`` genotypes, aligned with ``all()``."""
        if self._genotypes is None:
            self.build()
        assert self._genotypes is not None  # build() sets it
        return self._genotypes

    def is_valid(self, cells: Cells) -> np.ndarray:
        """The paper's six checks (:func:`paper_validity_checks`)."""
        return paper_validity_checks(cells).all(axis=1)  # type: ignore[return-value, unused-ignore]  # numpy: rank unknown

    def hash(self, cells: Cells) -> np.ndarray:
        """Canonical-genotype MD5 for cells that are genotypes; the graph hash of the DAG for
        cells the paper counts as valid that are not one genotype; ``''`` for invalid cells."""
        out = np.full(len(cells), "", dtype="<U32")
        genotype = is_valid_cells(cells)
        if genotype.all():
            out[:] = hash_genotypes(cells_to_genotypes(cells))
            return out
        if genotype.any():
            out[genotype] = hash_genotypes(cells_to_genotypes(cells[np.flatnonzero(genotype)]))
        other = self.is_valid(cells) & ~genotype
        if other.any():
            out[other] = wl_hash(cells.adjacency[other], cells.ops[other])
        return out

    def to_native(self, cells: Cells) -> list[str]:
        return [format_genotype(g) for g in cells_to_genotypes(cells)]

    def from_native(self, items: Iterable[str]) -> Cells:
        items = list(items)
        if not items:
            empty = np.zeros((0, NUM_NODES, NUM_NODES), np.uint8)
            return Cells(empty, np.zeros((0, NUM_NODES), np.int8), self.name)
        return genotypes_to_cells(np.stack([parse_genotype(s) for s in items]), self.name)

    def options(self) -> dict[str, Any]:
        return {"samples": self.samples, "seed": self.seed}

    def info(self) -> dict[str, Any]:
        return {**super().info(), **self.options()}
