"""Cell spaces described by a spec: a small TOML or JSON file, or the same as a Python dict.

Every field, with the NAS-Bench-201 cell as the example (the ``nb201`` spec that ships with
arch2vec, ``spaces/specs/nb201.toml``: :func:`arch2vec.spaces.example_spec`; the fields of
ops-on-nodes spaces are shown in ``nb101.toml`` beside it; ``docs/spaces.md`` explains each)::

    name = "nb201-spec"             # the space's name (letters, digits, - _ .)
    description = "..."             # optional
    ops = ["nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "none"]
    ops_on = "edges"                # "nodes" (NB-101 style) or "edges" (NB-201 style)
    edges = [[0, 1], [0, 2], [1, 2], [0, 3], [1, 3], [2, 3]]   # ops_on = "edges": the fixed DAG
    # ops_on = "nodes":  max_nodes = 7 (input and output included, 3..7 to enumerate)
    #                    max_edges = 9 (after pruning)
    input = "input"                 # the name of the input node's op (default "input")
    output = "output"               # the name of the output node's op (default "output")
    hash = "wl"                     # "wl" (isomorphism-invariant) or "exact" (the stored arrays)
    [op_counts]                     # optional: allowed number of nodes or edges with an op
    none = [0, 6]                   # op = [min, max]
    [pool]
    mode = "enumerate"              # "enumerate" every cell, or "sample" ``samples`` distinct ones
    samples = 100000                # mode = "sample"
    seed = 0                        # mode = "sample"

**Ops on nodes** (NB-101 style). A cell is a DAG of up to ``max_nodes`` nodes: node 0 the input,
the last real node the output, an op from ``ops`` on every other node. Cells are stored pruned as
NAS-Bench-101's ``ModelSpec`` prunes them (nodes off every input-to-output path removed; smaller
cells padded as in NB-101) and must keep at most ``max_edges`` edges. ``enumerate`` lists every
cell once per isomorphism class (:mod:`arch2vec.spaces.enumerate`); the ``wl`` hash is
NAS-Bench-101's official graph hash with labels input -1, output -2 and inner op ``k`` of ``ops``
as ``k`` -- so ``ops = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]`` with 7 nodes and 9
edges gives exactly the official NAS-Bench-101 hashes. Native form: ``{"matrix", "ops"}``.

**Ops on edges** (NB-201 style). A fixed DAG over nodes ``0..k-1`` (node 0 the input, ``k-1`` the
output) whose every edge carries an op, turned into an op-on-node DAG as the arch2vec paper does:
node 0 the input, one node per edge in the order listed, the last node the output; the node of edge
``(i, j)`` reads the input (``i = 0``) or the nodes of the edges into ``i``, and feeds the output
(``j = k - 1``) or the nodes of the edges out of ``j``. The ``wl`` hash labels nodes by their op
index in ``[input, *ops, output]`` (as the built-in NB-201 space). Native form: an arch string,
``|op~i|...|`` per target node ``j`` (edges into ``j``, in the order listed), joined by ``+`` --
NB-201's own format when its edges are listed as above.

``enumerate`` lists every labelling (first edge or node most significant, ops in the order
given); ``sample`` draws ``samples`` distinct cells with ``seed``. Pools are cached in the data
directory, keyed by the spec's content.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, SupportsIndex

import numpy as np

from arch2vec import io
from arch2vec.spaces.base import SearchSpace, check_pool_size
from arch2vec.spaces.cells import PAD, Cells
from arch2vec.spaces.enumerate import count_labelled_classes, labelled_classes
from arch2vec.spaces.hashing import wl_hash

CACHE_FORMAT = 1
FIELDS = {
    "name",
    "description",
    "ops",
    "ops_on",
    "edges",
    "max_nodes",
    "max_edges",
    "input",
    "output",
    "hash",
    "op_counts",
    "pool",
}
POOL_FIELDS = {"mode", "samples", "seed"}
MAX_ENUMERATED_NODES = 7
OP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""What an op name may be: arch strings separate ops with ``|``, ``~`` and ``+``, and results
tables hold names in CSV cells, so a name is letters, digits, ``-``, ``_`` and ``.``."""
MAX_SAMPLE_TRIES = 200
"""Draws that may find no new cell in a row before sampling gives up (the space is smaller)."""
EDGE_CHUNK = 1 << 20
"""Labellings of an edge space enumerated at once."""
MAX_OPS = 125
"""Op indices are int8: the input (0), ``ops`` (1..) and the output fit in 0..126."""
MAX_LABELINGS = 10**8
"""The most op labellings enumeration may examine: ``len(ops) ** edges`` (ops on edges) or
``len(ops) ** (max_nodes - 2)`` (ops on nodes)."""
SAMPLE_CHUNK_ENTRIES = 1 << 24
"""Adjacency entries drawn at once while sampling (bounds the sampler's working memory)."""


def _bad(source: str, key: str, problem: str) -> ValueError:
    return ValueError(f"{source}: field {key!r}: {problem}")


@dataclass(frozen=True)
class SpaceSpec:
    """A validated space description (see the module docstring for the fields)."""

    name: str
    ops: tuple[str, ...]
    ops_on: str
    edges: tuple[tuple[int, int], ...] = ()
    max_nodes: int = 0
    max_edges: int = 0
    input: str = "input"
    output: str = "output"
    hash: str = "wl"
    op_counts: tuple[tuple[str, int, int], ...] = ()
    mode: str = "enumerate"
    samples: int = 0
    seed: int = 0
    description: str = ""
    source: str = field(default="spec", compare=False)

    @classmethod
    def load(cls, path: str | Path) -> SpaceSpec:
        """A spec file: ``.toml`` or ``.json``."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: cannot read the space spec (no such file)")
        text = io.read_text(path)
        try:
            data = json.loads(text) if path.suffix.lower() == ".json" else _toml().loads(text)
        except ValueError as e:  # JSONDecodeError and TOMLDecodeError are ValueErrors
            raise ValueError(f"{path}: not valid {path.suffix.lstrip('.').upper()} ({e})") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "spec") -> SpaceSpec:
        """Validate a spec given as a dict; a one-line error names the field."""
        if not isinstance(data, Mapping):
            raise ValueError(
                f"{source}: a space spec is a table of fields, got {type(data).__name__}"
            )
        unknown = sorted(set(data) - FIELDS)
        if unknown:
            raise _bad(source, unknown[0], f"unknown field (expected {', '.join(sorted(FIELDS))})")
        for key in ("name", "ops", "ops_on"):
            if key not in data:
                raise _bad(source, key, "missing")
        name = data["name"]
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise _bad(source, "name", f"expected letters, digits, - _ . (got {name!r})")
        ops = data["ops"]
        if not isinstance(ops, list) or not ops or not all(isinstance(o, str) and o for o in ops):
            raise _bad(source, "ops", "expected a non-empty list of op names")
        names = [data.get("input", "input"), data.get("output", "output")]
        if not all(isinstance(n, str) and n for n in names) or names[0] == names[1]:
            raise _bad(source, "input", "input and output must be two different op names")
        for key, values in (("ops", ops), ("input", names[:1]), ("output", names[1:])):
            bad = next((o for o in values if not OP_NAME.fullmatch(o)), None)
            if bad is not None:  # '+', '|', '~', ',', quotes, spaces: arch strings, CSV cells
                raise _bad(
                    source,
                    key,
                    f"op name {bad!r}: expected letters, digits, - _ . (so that "
                    "arch strings and results tables name its cells unambiguously)",
                )
        if len(set(ops)) != len(ops) or set(ops) & set(names):
            raise _bad(source, "ops", "op names must be distinct and differ from input and output")
        if len(ops) > MAX_OPS:
            raise _bad(source, "ops", f"{len(ops)} ops: at most {MAX_OPS}")
        ops_on = data["ops_on"]
        if ops_on not in ("nodes", "edges"):
            raise _bad(source, "ops_on", f"expected 'nodes' or 'edges', got {ops_on!r}")
        kw: dict[str, Any] = {"name": name, "ops": tuple(ops), "ops_on": ops_on, "source": source}
        kw["input"], kw["output"] = names
        if ops_on == "edges":
            for key in ("max_nodes", "max_edges"):
                if key in data:
                    raise _bad(source, key, "only for ops_on = 'nodes'")
            kw["edges"] = _edges(data.get("edges"), source)
        else:
            if "edges" in data:
                raise _bad(source, "edges", "only for ops_on = 'edges' (a fixed DAG)")
            kw["max_nodes"] = _int(data, "max_nodes", source, 3, 64)
            kw["max_edges"] = _int(data, "max_edges", source, 2, kw["max_nodes"] ** 2)
        kw["hash"] = data.get("hash", "wl")
        if kw["hash"] not in ("wl", "exact"):
            raise _bad(source, "hash", f"expected 'wl' or 'exact', got {kw['hash']!r}")
        kw["op_counts"] = _op_counts(data.get("op_counts", {}), ops, source)
        pool = data.get("pool", {})
        if not isinstance(pool, Mapping):
            raise _bad(source, "pool", "expected a table (mode, samples, seed)")
        if set(pool) - POOL_FIELDS:
            raise _bad(source, f"pool.{sorted(set(pool) - POOL_FIELDS)[0]}", "unknown field")
        kw["mode"] = pool.get("mode", "enumerate")
        if kw["mode"] not in ("enumerate", "sample"):
            raise _bad(source, "pool.mode", f"expected 'enumerate' or 'sample', got {kw['mode']!r}")
        nodes = len(kw["edges"]) + 2 if ops_on == "edges" else kw["max_nodes"]
        if kw["mode"] == "sample":
            kw["samples"] = _int(pool, "samples", source, 1, 10**8, "pool.")
            kw["seed"] = _int(pool, "seed", source, 0, 2**63 - 1, "pool.", default=0)
            try:
                check_pool_size(kw["samples"], nodes, f"{source}: field 'pool.samples'")
            except ValueError as e:
                raise ValueError(str(e)) from None
        elif ops_on == "nodes" and kw["max_nodes"] > MAX_ENUMERATED_NODES:
            raise _bad(
                source,
                "pool.mode",
                f"enumerating {kw['max_nodes']} nodes is out of reach (at most "
                f"{MAX_ENUMERATED_NODES}); use mode = 'sample' with samples = N",
            )
        else:
            free = len(kw["edges"]) if ops_on == "edges" else kw["max_nodes"] - 2
            if len(ops) ** free > MAX_LABELINGS:
                raise _bad(
                    source,
                    "pool.mode",
                    f"enumerating means examining {len(ops)}^{free} = {len(ops) ** free:,} op "
                    f"labellings (at most {MAX_LABELINGS:,}); use mode = 'sample'",
                )
        description = data.get("description", "")
        if not isinstance(description, str):
            raise _bad(source, "description", "expected text")
        kw["description"] = description
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "ops": list(self.ops), "ops_on": self.ops_on}
        if self.ops_on == "edges":
            out["edges"] = [list(e) for e in self.edges]
        else:
            out["max_nodes"], out["max_edges"] = self.max_nodes, self.max_edges
        out.update(input=self.input, output=self.output, hash=self.hash)
        if self.op_counts:
            out["op_counts"] = {o: [lo, hi] for o, lo, hi in self.op_counts}
        out["pool"] = {"mode": self.mode}
        if self.mode == "sample":
            out["pool"].update(samples=self.samples, seed=self.seed)
        if self.description:
            out["description"] = self.description
        return out

    def size(self) -> tuple[int, bool]:
        """``(cells, exact)``: how many cells the space holds -- exactly, or an upper bound where
        ``exact`` is False (op counts on nodes; more than 7 nodes) -- computed without listing
        them (ops on edges: a product, or with op counts a count of op multisets; ops on nodes:
        labelled isomorphism classes by Burnside's lemma)."""
        k = len(self.ops)
        if self.ops_on == "edges":
            return _edge_count(self.ops, len(self.edges), self.op_counts), True
        if self.max_nodes <= MAX_ENUMERATED_NODES:
            total = sum(
                count_labelled_classes(n, k, self.max_edges) for n in range(2, self.max_nodes + 1)
            )
            return total, not self.op_counts
        return sum(
            2 ** (n * (n - 1) // 2) * k ** (n - 2) for n in range(2, self.max_nodes + 1)
        ), False

    def check_size(self) -> int:
        """The space's size (or bound); a one-line error if its pool is too large, or asks for
        more samples than the space holds -- before anything is allocated."""
        cells, exact = self.size()
        nodes = len(self.edges) + 2 if self.ops_on == "edges" else self.max_nodes
        if self.mode == "enumerate":
            check_pool_size(cells, nodes, f"{self.source}: enumerating the space")
        elif self.samples > cells:
            raise _bad(
                self.source,
                "pool.samples",
                f"{self.samples:,} samples, but the space holds "
                f"{'only' if exact else 'at most'} {cells:,} cells (use mode = 'enumerate')",
            )
        return cells

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def _edge_count(ops: tuple[str, ...], m: int, op_counts: tuple) -> int:
    """Labellings of ``m`` edges with ``ops`` that keep every op within its count bounds:
    ``m!`` times the ``x^m`` coefficient of the product of the ops' exponential generating
    functions (exact, in fractions)."""
    from fractions import Fraction
    from math import factorial

    if not op_counts:
        return len(ops) ** m
    bounds = {op: (lo, hi) for op, lo, hi in op_counts}
    poly = [Fraction(1)] + [Fraction(0)] * m
    for op in ops:
        lo, hi = bounds.get(op, (0, m))
        f = [Fraction(1, factorial(c)) if lo <= c <= hi else Fraction(0) for c in range(m + 1)]
        poly = [sum((poly[i] * f[d - i] for i in range(d + 1)), Fraction(0)) for d in range(m + 1)]
    return int(poly[m] * factorial(m))


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib
    return tomllib


def _int(data, key, source, lo, hi, prefix="", default=None) -> int:
    value = data.get(key, default)
    if value is None:
        raise _bad(source, prefix + key, "missing")
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _bad(source, prefix + key, f"expected an integer in {lo}..{hi}, got {value!r}")
    return value


def _edges(edges: Any, source: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(edges, list) or not edges:
        raise _bad(source, "edges", "expected a list of [from, to] node pairs")
    out = []
    for k, e in enumerate(edges):
        ok = isinstance(e, list) and len(e) == 2 and all(type(v) is int for v in e)
        if not ok or e[0] < 0:
            raise _bad(source, "edges", f"edge {k}: expected [from, to] node numbers, got {e!r}")
        if e[0] >= e[1]:
            raise _bad(
                source, "edges", f"edge {k} {e}: goes backwards or to itself (a cycle in the DAG)"
            )
        out.append((e[0], e[1]))
    if len(set(out)) != len(out):
        raise _bad(source, "edges", "an edge is listed twice")
    last = max(j for _, j in out)
    nodes = {v for e in out for v in e}
    if nodes != set(range(last + 1)):
        missing = sorted(set(range(last + 1)) - nodes)[0]
        raise _bad(source, "edges", f"node {missing} has no edge")
    for v in range(1, last):
        if not any(j == v for _, j in out) or not any(i == v for i, _ in out):
            raise _bad(source, "edges", f"node {v} is not on a path from node 0 to node {last}")
    for e, (_, j) in enumerate(out):
        for f, (i, _) in enumerate(out):
            if i == j and f < e:
                raise _bad(source, "edges", f"edge {f} {list(out[f])} must be listed after {e}")
    return tuple(out)


def _op_counts(counts: Any, ops: list[str], source: str) -> tuple[tuple[str, int, int], ...]:
    if not isinstance(counts, Mapping):
        raise _bad(source, "op_counts", "expected a table op = [min, max]")
    out = []
    for op, bounds in counts.items():
        if op not in ops:
            raise _bad(source, f"op_counts.{op}", f"unknown op (expected one of {', '.join(ops)})")
        ok = isinstance(bounds, list) and len(bounds) == 2
        ok = ok and all(type(b) is int and b >= 0 for b in bounds) and bounds[0] <= bounds[1]
        if not ok:
            raise _bad(source, f"op_counts.{op}", "expected [min, max] with 0 <= min <= max")
        out.append((op, bounds[0], bounds[1]))
    return tuple(out)


class SpecSpace(SearchSpace):
    """The space a :class:`SpaceSpec` describes (see the module docstring)."""

    def __init__(self, spec: SpaceSpec | Mapping[str, Any], data_dir: str | Path | None = None):
        super().__init__(data_dir)
        self.spec = spec if isinstance(spec, SpaceSpec) else SpaceSpec.from_dict(spec)
        s = self.spec
        self.name = s.name
        self.ops = (s.input, *s.ops, s.output)
        self.padded = s.ops_on == "nodes"
        self.native_key = "arch_str" if s.ops_on == "edges" else "cell"
        self.native_help = (
            "an arch string |op~0|+...|" if s.ops_on == "edges" else None
        )  # ops on nodes: the native form is the JSON cell
        if s.ops_on == "edges":
            self.num_nodes = len(s.edges) + 2
            self._dag = _edge_dag(s.edges)
        else:
            self.num_nodes = s.max_nodes
        self._cells: Cells | None = None
        self._hashes: np.ndarray | None = None

    def options(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict()}

    def __reduce_ex__(self, protocol: SupportsIndex):
        # to workers: the spec; the pool comes from the cache
        return (SpecSpace, (self.spec.to_dict(), self.data_dir))

    @property
    def cache_path(self) -> Path:
        return io.data_dir(self.data_dir) / f"spec_{self.name}_{self.spec.digest()}.npz"

    def build(self, rebuild: bool = False, log: Any = None, progress: bool = False) -> Cells:
        """Enumerate or sample the pool (cached beside the other spaces; ``progress``: count
        the cells hashed while building)."""
        expect = {"format": CACHE_FORMAT, "space": self.name, "spec": self.spec.digest()}

        def make() -> dict[str, np.ndarray]:
            self.spec.check_size()  # before anything is allocated
            cells = self._enumerate() if self.spec.mode == "enumerate" else self._sample()
            hashes = self._hash(cells, progress)
            if len(np.unique(hashes)) != len(hashes):  # enumeration keeps one cell per class
                raise RuntimeError(f"{self.name}: two cells of the pool share a hash")
            return {"adjacency": cells.adjacency, "ops": cells.ops, "hash": hashes.astype("S32")}

        arrays = io.cached_arrays(self.cache_path, expect, make, rebuild=rebuild, log=log)
        if len(arrays["ops"]) == 0:
            raise ValueError(f"{self.spec.source}: the space has no cell (check its constraints)")
        self._cells = Cells(arrays["adjacency"], arrays["ops"], self.name)
        self._hashes = arrays["hash"].astype("U32")
        self._check_name()
        return self._cells

    def _check_name(self) -> None:
        """A spec may take the name of a registered space only if it holds exactly that space
        (the same fingerprint): otherwise rewards, embeddings and tables of the registered space
        would land on other cells."""
        from arch2vec.spaces.registry import SPACES

        if self.name not in SPACES:
            return
        registered = SPACES[self.name](data_dir=self.data_dir)
        mine = self.fingerprint()
        if registered.fingerprint() != mine:
            self._cells = self._hashes = self._fingerprint = None  # refused on every use
            raise ValueError(
                f"{self.spec.source}: field 'name': {self.name!r} is the name of a registered "
                f"space, and this spec holds other cells or another order (fingerprint {mine}, "
                f"the registered {self.name}: {registered.fingerprint()}); give the space a "
                "name of its own"
            )

    def all(self) -> Cells:
        return self._cells if self._cells is not None else self.build()

    def hashes(self) -> np.ndarray:
        if self._hashes is None:
            self.build()
        assert self._hashes is not None  # build() sets it
        return self._hashes

    # ------------------------------------------------------------------------ pools

    def _enumerate(self) -> Cells:
        s = self.spec
        k = len(s.ops)
        if s.ops_on == "edges":
            m = len(s.edges)
            place = k ** np.arange(m - 1, -1, -1, dtype=np.int64)
            parts = []
            for start in range(0, k**m, EDGE_CHUNK):  # op counts keep a part of each chunk
                digits = (np.arange(start, min(start + EDGE_CHUNK, k**m))[:, None] // place) % k
                cells = self._edge_cells(digits)
                parts.append(cells[np.flatnonzero(self._counts_ok(cells))])
            return Cells.concat(parts)
        else:
            adjs, opss = [], []
            for n in range(2, s.max_nodes + 1):
                adj, inner = labelled_classes(n, k, s.max_edges)
                padded = np.zeros((len(adj), s.max_nodes, s.max_nodes), dtype=np.uint8)
                padded[:, :n, :n] = adj
                ops = np.full((len(adj), s.max_nodes), PAD, dtype=np.int8)
                ops[:, 0], ops[:, n - 1] = 0, k + 1
                ops[:, 1 : n - 1] = 1 + inner
                adjs.append(padded)
                opss.append(ops)
            cells = Cells(np.concatenate(adjs), np.concatenate(opss), self.name)
        return cells[np.flatnonzero(self._counts_ok(cells))]

    def _sample(self) -> Cells:
        s = self.spec
        rng = np.random.default_rng(s.seed)
        k = len(s.ops)
        found: list[Cells] = []
        seen: set[str] = set()
        nodes = len(s.edges) + 2 if s.ops_on == "edges" else s.max_nodes
        most = max(64, SAMPLE_CHUNK_ENTRIES // (nodes * nodes))
        idle = 0  # draws in a row that found no new cell
        while idle < MAX_SAMPLE_TRIES:
            want = s.samples - sum(len(c) for c in found)
            if want <= 0:
                break
            draw = min(max(2 * want, 64), most)
            if s.ops_on == "edges":
                cells = self._edge_cells(rng.integers(k, size=(draw, len(s.edges))))
            else:
                n = s.max_nodes
                upper = np.triu(np.ones((n, n), dtype=bool), k=1)
                adj = (rng.random((draw, n, n)) < 0.5) & upper
                ops = rng.integers(1, k + 1, size=(draw, n)).astype(np.int8)
                ops[:, 0], ops[:, -1] = 0, k + 1
                cells = Cells(adj.astype(np.uint8), ops, self.name)
                cells, connected = _prune(cells)
                cells = cells[np.flatnonzero(connected & (cells.num_edges() <= s.max_edges))]
            cells = cells[np.flatnonzero(self._counts_ok(cells))]
            keep = []
            for i, h in enumerate(self.hash(cells).tolist()):
                if h not in seen:
                    seen.add(h)
                    keep.append(i)
            found.append(cells[np.asarray(keep[:want], dtype=np.int64)])
            idle = 0 if keep else idle + 1
        cells = Cells(
            np.concatenate([c.adjacency for c in found]),
            np.concatenate([c.ops for c in found]),
            self.name,
        )
        if len(cells) < s.samples:
            raise ValueError(
                f"{s.source}: pool.samples = {s.samples}, but only {len(cells)} distinct cells "
                "were found (the space may be smaller; use mode = 'enumerate')"
            )
        return cells

    def _edge_cells(self, digits: np.ndarray) -> Cells:
        b = len(digits)
        ops = np.empty((b, self.num_nodes), dtype=np.int8)
        ops[:, 0], ops[:, -1] = 0, len(self.spec.ops) + 1
        ops[:, 1:-1] = 1 + digits
        adj = np.broadcast_to(self._dag, (b, *self._dag.shape)).copy()
        return Cells(adj, ops, self.name)

    def _counts_ok(self, cells: Cells) -> np.ndarray:
        ok = np.ones(len(cells), dtype=bool)
        for op, lo, hi in self.spec.op_counts:
            count = (cells.ops == self.ops.index(op)).sum(axis=1)
            ok &= (count >= lo) & (count <= hi)
        return ok

    # ------------------------------------------------------------------------ the interface

    def is_valid(self, cells: Cells) -> np.ndarray:
        s = self.spec
        if cells.num_nodes != self.num_nodes:
            return np.zeros(len(cells), dtype=bool)
        k = len(s.ops)
        if s.ops_on == "edges":
            ok = (cells.adjacency == self._dag).all(axis=(1, 2))
            ok &= (cells.ops[:, 0] == 0) & (cells.ops[:, -1] == k + 1)
            ok &= ((cells.ops[:, 1:-1] >= 1) & (cells.ops[:, 1:-1] <= k)).all(axis=1)
            return ok & self._counts_ok(cells)
        n = _num_vertices(cells.ops)
        idx = np.arange(cells.num_nodes)
        real = idx[None, :] < n[:, None]
        pad_ok = np.where(real, True, cells.ops == PAD).all(axis=1)
        pad_edges = cells.adjacency.astype(bool) & ~(real[:, :, None] & real[:, None, :])
        pruned, connected = _prune(cells)
        m = _num_vertices(pruned.ops)
        rows = np.arange(len(cells))
        first = pruned.ops[:, 0] == 0
        last = pruned.ops[rows, np.maximum(m - 1, 0)] == k + 1
        inner = (idx[None, :] > 0) & (idx[None, :] < (m - 1)[:, None])
        inner_ok = np.where(inner, (pruned.ops >= 1) & (pruned.ops <= k), True).all(axis=1)
        ok = pad_ok & ~pad_edges.any(axis=(1, 2)) & connected & first & last & inner_ok
        return ok & (pruned.num_edges() <= s.max_edges) & self._counts_ok(pruned)

    def hash(self, cells: Cells) -> np.ndarray:
        return self._hash(cells)

    def _hash(self, cells: Cells, progress: bool = False) -> np.ndarray:
        out = np.full(len(cells), "", dtype="U32")
        valid = np.flatnonzero(self.is_valid(cells))
        if len(valid) == 0:
            return out
        cells = cells[valid]
        if self.spec.ops_on == "nodes":
            cells, _ = _prune(cells)
        if self.spec.hash == "exact":
            raw = np.concatenate(
                [cells.adjacency.reshape(len(cells), -1), cells.ops.view(np.uint8)], 1
            )
            out[valid] = [hashlib.md5(row.tobytes()).hexdigest() for row in raw]
        elif self.spec.ops_on == "nodes":
            labels = np.where(
                cells.ops == 0, -1, np.where(cells.ops == len(self.ops) - 1, -2, cells.ops - 1)
            )
            labels = np.where(cells.ops == PAD, 0, labels)
            out[valid] = wl_hash(
                cells.adjacency, labels, _num_vertices(cells.ops), progress=progress
            )
        else:
            out[valid] = wl_hash(cells.adjacency, cells.ops, progress=progress)
        return out

    def to_native(self, cells: Cells) -> list[Any]:
        valid = self.is_valid(cells)
        if not valid.all():
            raise ValueError(
                f"{self.name}: cell {int(np.flatnonzero(~valid)[0])} is not a valid cell"
            )
        if self.spec.ops_on == "edges":
            return [self._arch_str(ops[1:-1]) for ops in cells.ops.tolist()]
        pruned, _ = _prune(cells)
        out = []
        for adj, ops in zip(pruned.adjacency, pruned.ops, strict=True):
            m = int((ops != PAD).sum())
            out.append({"matrix": adj[:m, :m].tolist(), "ops": [self.ops[o] for o in ops[:m]]})
        return out

    def from_native(self, items: list[Any]) -> Cells:
        if self.spec.ops_on == "edges":
            digits = np.array([self._parse_arch_str(x) for x in items], dtype=np.int64)
            return self._edge_cells(digits.reshape(len(items), len(self.spec.edges)))
        n = self.num_nodes
        adj = np.zeros((len(items), n, n), dtype=np.uint8)
        ops = np.full((len(items), n), PAD, dtype=np.int8)
        for k, item in enumerate(items):
            if isinstance(item, str):
                try:
                    item = json.loads(item)
                except ValueError:
                    raise ValueError(f"{self.name} cell {item!r}: not a JSON cell") from None
            try:
                matrix = np.asarray(item["matrix"], dtype=np.int64)
                names = list(item["ops"])
            except (KeyError, TypeError, ValueError):
                raise ValueError(
                    f"{self.name} cell {k}: expected {{'matrix': [[...]], 'ops': [...]}}"
                ) from None
            m = len(names)
            if matrix.shape != (m, m) or m > n or m < 2:
                raise ValueError(
                    f"{self.name} cell {k}: a {matrix.shape} matrix with {m} ops; expected "
                    f"N x N with N ops, 2 <= N <= {n}"
                )
            unknown = [o for o in names if o not in self.ops]
            if unknown:
                raise ValueError(f"{self.name} cell {k}: unknown op {unknown[0]!r}")
            if not np.isin(matrix, (0, 1)).all() or np.tril(matrix).any():
                raise ValueError(f"{self.name} cell {k}: matrix not 0/1 strictly upper-triangular")
            adj[k, :m, :m] = matrix
            ops[k, :m] = [self.ops.index(o) for o in names]
        return Cells(adj, ops, self.name)

    def _arch_str(self, digits: list[int]) -> str:
        groups: dict[int, list[str]] = {}
        for (i, j), d in zip(self.spec.edges, digits, strict=True):
            groups.setdefault(j, []).append(f"{self.spec.ops[d - 1]}~{i}")
        return "+".join("|" + "|".join(groups[j]) + "|" for j in sorted(groups))

    def _parse_arch_str(self, text: Any) -> list[int]:
        if not isinstance(text, str):
            raise ValueError(f"{self.name}: arch string {text!r}: expected text")
        edges = {e: k for k, e in enumerate(self.spec.edges)}
        digits: list[int | None] = [None] * len(edges)
        targets = sorted({j for _, j in self.spec.edges})
        groups = text.strip().split("+")
        if len(groups) != len(targets):
            raise ValueError(
                f"{self.name}: arch string {text!r}: expected {len(targets)} '+'-separated groups"
            )
        for j, group in zip(targets, groups, strict=True):
            if len(group) < 2 or group[0] != "|" or group[-1] != "|":
                raise ValueError(f"{self.name}: arch string {text!r}: bad group {group!r}")
            for item in group[1:-1].split("|"):
                op, _, src = item.rpartition("~")
                if op not in self.spec.ops:
                    raise ValueError(f"{self.name}: arch string {text!r}: unknown op {op!r}")
                if not src.isdigit() or (int(src), j) not in edges:
                    raise ValueError(f"{self.name}: arch string {text!r}: no edge {src} -> {j}")
                digits[edges[(int(src), j)]] = self.spec.ops.index(op)
        if any(d is None for d in digits):
            raise ValueError(f"{self.name}: arch string {text!r}: an edge has no op")
        return digits  # type: ignore[return-value]

    def info(self) -> dict[str, Any]:
        return {**super().info(), "spec": self.spec.source}


def _edge_dag(edges: tuple[tuple[int, int], ...]) -> np.ndarray:
    """The op-on-node adjacency of a fixed DAG whose edges carry the ops."""
    n = len(edges) + 2
    last = max(j for _, j in edges)
    a = np.zeros((n, n), dtype=np.uint8)
    for e, (i, j) in enumerate(edges, start=1):
        if i == 0:
            a[0, e] = 1
        if j == last:
            a[e, n - 1] = 1
        for f, (i2, _) in enumerate(edges, start=1):
            if i2 == j:
                a[e, f] = 1
    return a


def _num_vertices(ops: np.ndarray) -> np.ndarray:
    is_pad = ops == PAD
    return np.where(is_pad.any(axis=1), is_pad.argmax(axis=1), ops.shape[1])


def _prune(cells: Cells) -> tuple[Cells, np.ndarray]:
    from arch2vec.spaces.nb101 import prune

    return prune(cells)


def load_space(path: str | Path, data_dir: str | Path | None = None) -> SpecSpace:
    """The space a spec file describes."""
    return SpecSpace(SpaceSpec.load(path), data_dir=data_dir)


def looks_like_spec(text: str) -> bool:
    """Whether a space argument names a spec file rather than a registered space."""
    return str(text).lower().endswith((".toml", ".json"))
