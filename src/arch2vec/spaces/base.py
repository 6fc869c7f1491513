"""The interface every search space implements."""

from __future__ import annotations

import hashlib
import json
import logging
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, SupportsIndex

import numpy as np

from arch2vec.spaces.cells import PAD, Cells

MAX_POOL_CELLS = 5_000_000
"""The most cells a pool (enumerated or sampled) may hold."""
MAX_POOL_BYTES = 1 << 30
"""The most bytes a pool's adjacency matrices (cells x nodes x nodes) may take: 1 GiB."""

HASH_CACHE_FORMAT = 1
"""Bump when a space's hash function changes: cached hash tables of the old format rebuild."""

_log = logging.getLogger(__name__)


class SearchSpace(ABC):
    """A search space: a node count, an op vocabulary and the cells it contains.

    ``all()`` is the space's pool in its canonical order (a cell's position there is its *pool
    index*); ``hash`` gives each cell a 32-hex id, equal for cells the space treats as the same.
    """

    name: str
    num_nodes: int
    ops: tuple[str, ...]
    padded: bool = False
    """True where cells may have padding nodes (op ``PAD``): the models then decode "no node"."""
    native_key: str | None = None
    """Name of the space's native cell description in exports (``arch_str``, ``genotype``)."""

    hash_cache: bool = False
    """True where ``hashes()`` is worth caching on disk beside the space's cache (it takes
    seconds to compute); the file is keyed by the space's name, options and pool size."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = data_dir
        self._hash_order: np.ndarray | None = None
        self._hash_table: np.ndarray | None = None
        self._fingerprint: str | None = None

    @abstractmethod
    def all(self) -> Cells:
        """Every cell of the space (or its sampled pool) in canonical order."""

    def size(self) -> int:
        """How many cells the space holds: ``len(all())`` unless ``all()`` is a sample of it
        (DARTS) or a space knows its count without building the pool."""
        return len(self.all())

    @abstractmethod
    def is_valid(self, cells: Cells) -> np.ndarray:
        """``(B,)`` bool: each cell is a member of the space."""

    @abstractmethod
    def hash(self, cells: Cells) -> np.ndarray:
        """``(B,)`` array of 32-hex strings (``''`` for an invalid cell)."""

    def hashes(self) -> np.ndarray:
        """Hashes of ``all()``, aligned with pool indices: computed once per object and, where
        ``hash_cache`` is set, once per data directory (``<space>[_<options>]_hashes.npz``)."""
        if self._hash_table is None:
            self._hash_table = self._cached_hashes() if self.hash_cache else None
            if self._hash_table is None:
                self._hash_table = self.hash(self.all())
        return self._hash_table

    def fingerprint(self) -> str:
        """A digest of what the space holds, not of what it is called: its node count, op
        vocabulary and the hash of every pool cell in pool order (16 hex digits). Two spaces with
        one fingerprint number the same cells the same way, so pool indices, embeddings and
        benchmark rows of one are those of the other; every join compares fingerprints."""
        fingerprint: str | None = getattr(self, "_fingerprint", None)
        if fingerprint is None:
            digest = hashlib.sha256(b"arch2vec space 1\0")
            digest.update(f"{self.num_nodes}\0{chr(31).join(self.ops)}\0".encode())
            digest.update(np.ascontiguousarray(np.asarray(self.hashes(), dtype="S32")).tobytes())
            fingerprint = self._fingerprint = digest.hexdigest()[:16]
        return fingerprint

    def describe(self) -> str:
        """The space for messages: its name, where it comes from, and its fingerprint."""
        source = getattr(getattr(self, "spec", None), "source", None)
        where = f" from {source}" if source and source != "spec" else ""
        return f"{self.name}{where} (fingerprint {self.fingerprint()})"

    def _cached_hashes(self) -> np.ndarray | None:
        from arch2vec import io

        options = self.options()
        stem = "_".join([self.name, *(str(v) for v in options.values())])
        path = io.data_dir(self.data_dir) / f"{stem}_hashes.npz"
        expect = {
            "format": HASH_CACHE_FORMAT,
            "space": self.name,
            "cells": len(self.all()),
            **options,
        }

        def make() -> dict[str, np.ndarray]:
            return {"hash": self.hash(self.all()).astype("S32")}

        try:
            table = io.cached_arrays(path, expect, make, log=_log.warning)["hash"]
        except OSError as e:  # an unwritable data directory: compute, do not cache
            _log.debug("hash cache %s unavailable: %s", path, e)
            return None
        return table.astype("U32")

    def options(self) -> dict[str, Any]:
        """The constructor options that, with the name and data directory, rebuild this space
        (DARTS: ``samples``, ``seed``)."""
        return {}

    def __reduce_ex__(self, protocol: SupportsIndex):
        """A registered built-in or plugin space travels to worker processes by name and
        options, and is rebuilt there from its cache; other spaces travel by value."""
        from arch2vec.spaces.registry import SPACES

        if SPACES.shared(self.name) and SPACES.get(self.name) is type(self):
            return (_rebuild_space, (self.name, self.data_dir, self.options()))
        return super().__reduce_ex__(protocol)

    native_help: str | None = None
    """How the native form looks, for messages (``an arch string |op~0|+|op~0|op~1|+...``)."""

    def cell_forms(self) -> str:
        """The ways a cell of this space can be named, for messages."""
        n = len(self.all())
        forms = [f"a pool index 0..{n - 1}", "a 32-hex hash (any case)"]
        if self.native_help:
            forms.append(self.native_help)
        forms.append('a JSON cell {"matrix": [[...]], "ops": [names]}')
        return ", ".join(forms[:-1]) + " or " + forms[-1]

    def locate(self, text: str) -> int:
        """Pool index of a cell named by its pool index, 32-hex hash (in any case), native form
        (arch string, genotype, ...) or JSON cell ``{"matrix": [[...]], "ops": [names]}``; a
        one-line error that names the forms the space takes if ``text`` is none of them."""
        text = str(text).strip()
        kind = _name_kind(text)
        if kind == "hash":
            index = int(self.index_of_hashes([text.lower()])[0])
            if index < 0:
                raise ValueError(f"{self.name}: no cell has hash {text.lower()}")
            return index
        if kind == "index":
            index, n = int(text), len(self.all())
            if not 0 <= index < n:
                raise ValueError(f"{self.name}: pool index {index} is outside 0..{n - 1}")
            return index
        try:
            cells = self._cells_of_names([text])
        except (ValueError, KeyError, TypeError, IndexError, NotImplementedError) as e:
            why = " ".join(str(e).split()) or type(e).__name__
            raise ValueError(
                f"{self.name}: {text[:80]!r} is not a cell of the space ({why}); name a cell by "
                f"{self.cell_forms()}"
            ) from None
        index = int(self.index_of_cells(cells)[0])
        if index < 0:
            raise ValueError(f"{self.name}: {text[:80]!r} is not a cell of the pool")
        return index

    def locate_many(self, texts: list[str]) -> np.ndarray:
        """:meth:`locate` of many names at once (hashes and native forms in batches); -1 where
        a name is no cell of the pool."""
        texts = [str(t).strip() for t in texts]
        out = np.full(len(texts), -1, dtype=np.int64)
        n = len(self.all())
        kinds: dict[str, list[int]] = {"index": [], "hash": [], "other": []}
        for k, t in enumerate(texts):
            kinds[_name_kind(t)].append(k)
        for k in kinds["index"]:
            out[k] = int(texts[k]) if 0 <= int(texts[k]) < n else -1
        if kinds["hash"]:
            out[kinds["hash"]] = self.index_of_hashes([texts[k].lower() for k in kinds["hash"]])
        other = kinds["other"]
        try:  # one batch; a bad name sends the batch to one name at a time
            out[other] = self.index_of_cells(self._cells_of_names([texts[k] for k in other]))
        except (ValueError, KeyError, TypeError, IndexError, NotImplementedError):
            for k in other:
                try:
                    out[k] = self.locate(texts[k])
                except (ValueError, NotImplementedError):
                    out[k] = -1
        return out

    def _cells_of_names(self, texts: list[str]) -> Cells:
        """Cells from native names and JSON cells (a JSON object is a ``{"matrix", "ops"}``
        cell in every space; other text is the space's native form)."""
        if not texts:
            return Cells(
                np.zeros((0, self.num_nodes, self.num_nodes), np.uint8),
                np.zeros((0, self.num_nodes), np.int8),
                self.name,
            )
        if not any(t.startswith("{") for t in texts):
            return self.from_native(texts)
        parts = [self._json_cell(t) if t.startswith("{") else self.from_native([t]) for t in texts]
        return Cells.concat(parts)

    def _json_cell(self, text: str) -> Cells:
        """One cell from ``{"matrix": [[...]], "ops": [names]}`` (``adjacency`` for ``matrix``
        as ``space export`` writes it), padded to the space's node count."""
        try:
            item = json.loads(text)
        except ValueError:
            raise ValueError("not valid JSON") from None
        if not isinstance(item, dict):
            raise ValueError("a JSON cell is an object")
        matrix = item.get("matrix", item.get("adjacency"))
        names = item.get("ops")
        if not isinstance(names, list) or not isinstance(matrix, list):
            raise ValueError('expected {"matrix": [[...]], "ops": [names]}')
        unknown = [o for o in names if o not in self.ops]
        if unknown:
            raise ValueError(f"unknown op {unknown[0]!r}; expected one of {', '.join(self.ops)}")
        m = len(names)
        try:
            a = np.asarray(matrix, dtype=np.int64)
        except (TypeError, ValueError):
            raise ValueError("the matrix is not numeric") from None
        if a.shape != (m, m) or not 2 <= m <= self.num_nodes:
            raise ValueError(
                f"a {a.shape} matrix with {m} ops; expected N x N with N ops, 2 <= N <= "
                f"{self.num_nodes}"
            )
        if not np.isin(a, (0, 1)).all() or np.tril(a).any():
            raise ValueError("the matrix is not 0/1 strictly upper-triangular")
        adjacency = np.zeros((1, self.num_nodes, self.num_nodes), dtype=np.uint8)
        ops = np.full((1, self.num_nodes), PAD, dtype=np.int8)
        adjacency[0, :m, :m] = a
        ops[0, :m] = [self.ops.index(o) for o in names]
        return Cells(adjacency, ops, self.name)

    def index_of_hashes(self, hashes) -> np.ndarray:
        """Pool index of each hash; -1 where no cell of the pool has it."""
        table = self.hashes()
        order = getattr(self, "_hash_order", None)
        if order is None or len(order) != len(table):
            order = self._hash_order = np.argsort(table)
        query = np.asarray(hashes, dtype="U32")
        if len(table) == 0 or len(query) == 0:
            return np.full(len(query), -1, dtype=np.int64)
        pos = np.searchsorted(table, query, sorter=order).clip(0, len(table) - 1)
        return np.where(table[order[pos]] == query, order[pos], -1).astype(np.int64)

    def index_of_cells(self, cells: Cells) -> np.ndarray:
        """Pool index of each cell (by hash: isomorphic cells match); -1 where it is not in the
        pool (or not valid)."""
        hashes = self.hash(cells)
        out = self.index_of_hashes(hashes)
        out[hashes == ""] = -1
        return out

    def index_of_arrays(self, adjacency, ops) -> int:
        """Pool index of one cell given as an adjacency matrix and op indices (-1: none)."""
        try:
            a = np.zeros((self.num_nodes, self.num_nodes), dtype=np.uint8)
            o = np.full(self.num_nodes, PAD, dtype=np.int8)
            m = len(ops)
            a[:m, :m] = np.asarray(adjacency, dtype=np.uint8)
            o[:m] = np.asarray(ops, dtype=np.int8)
            return int(self.index_of_cells(Cells(a[None], o[None], self.name))[0])
        except (ValueError, TypeError, IndexError):
            return -1

    def native(self, indices: int | Any) -> Any:
        """The native form of pool cell(s) ``indices`` (one index: one item; an array: a list)."""
        idx = np.asarray(indices, dtype=np.int64)
        names = self.to_native(self.all()[np.atleast_1d(idx)])
        return names[0] if idx.ndim == 0 else names

    def to_native(self, cells: Cells) -> list[Any]:
        """The space's own description of each cell (arch string, genotype, ...), if it has one."""
        raise NotImplementedError(f"{self.name} has no native cell format")

    def from_native(self, items: list[Any]) -> Cells:
        raise NotImplementedError(f"{self.name} has no native cell format")

    def functional(self, cells: Cells) -> tuple[Cells, np.ndarray]:
        """Each cell in the form of the network it builds, and the id of that network.

        ``(canonical cells, (B,) 32-hex function hashes)``: cells that build the same network
        (where a space knows when they do) get the same hash, and their canonical forms make
        the dead parts of a cell explicit. The default is the cells themselves and
        :meth:`hash`: a space whose cells are stored as the networks they build (NB-101's are
        pruned) has nothing to add. Predictors read it (``arch2vec analyze predictors``)."""
        return cells, self.hash(cells)

    def sample(self, n: int, seed: int = 0) -> Cells:
        """``n`` distinct cells of the pool, drawn uniformly with ``seed``."""
        pool = self.all()
        if not 0 <= n <= len(pool):
            raise ValueError(f"sample: n must be between 0 and {len(pool)}, got {n}")
        rng = np.random.default_rng(seed)
        return pool[np.sort(rng.choice(len(pool), size=n, replace=False))]

    def info(self) -> dict[str, Any]:
        """Summary for ``arch2vec space info``."""
        pool = self.all()
        return {
            "space": self.name,
            "num_cells": len(pool),
            "num_nodes": self.num_nodes,
            "ops": list(self.ops),
            "mean_edges": round(float(pool.num_edges().mean()), 4) if len(pool) else 0.0,
            "fingerprint": self.fingerprint(),
        }

    def export(self, path: str | Path, progress: bool = False, chunk: int = 20_000) -> int:
        """Write every cell as a JSON line ``{"index", "hash", "adjacency", "ops"}`` (op names,
        padding nodes dropped; plus the native form under :attr:`native_key`), atomically;
        returns the number of cells."""
        import json

        from arch2vec import io
        from arch2vec.progress import Progress

        pool = self.all()
        hashes = self.hashes()
        total = len(pool)
        with (
            io.atomic_open(path, "w") as f,
            Progress(total=total, unit="cell", desc=f"export {self.name}", enabled=progress) as bar,
        ):
            for start in range(0, total, chunk):
                cells = pool[start : start + chunk]
                native = self.to_native(cells) if self.native_key else None
                for k in range(len(cells)):
                    keep = cells.ops[k] != PAD
                    row = {
                        "index": start + k,
                        "hash": str(hashes[start + k]),
                        "adjacency": cells.adjacency[k][np.ix_(keep, keep)].tolist(),
                        "ops": [self.ops[o] for o in cells.ops[k][keep]],
                    }
                    if native is not None and self.native_key is not None:
                        row[self.native_key] = native[k]
                    f.write(json.dumps(row) + "\n")
                bar.update(len(cells))
        return total

    def onehot(self, cells: Cells) -> np.ndarray:
        """Model input: ``(B, N, K)`` one-hot ops over this space's vocabulary."""
        return cells.onehot(len(self.ops))


def check_pool_size(cells: int, nodes: int, what: str) -> None:
    """Refuse, before anything is allocated, a pool of ``cells`` cells of ``nodes`` nodes larger
    than :data:`MAX_POOL_CELLS` or whose adjacency matrices exceed :data:`MAX_POOL_BYTES`."""
    if cells > MAX_POOL_CELLS:
        raise ValueError(
            f"{what}: a pool of {cells:,} cells is too large (at most {MAX_POOL_CELLS:,})"
        )
    if cells * nodes * nodes > MAX_POOL_BYTES:
        raise ValueError(
            f"{what}: a pool of {cells:,} cells of {nodes} nodes needs "
            f"{cells * nodes * nodes / 2**30:.1f} GiB of adjacency matrices (at most "
            f"{MAX_POOL_BYTES / 2**30:.0f} GiB: at most {MAX_POOL_BYTES // (nodes * nodes):,} "
            "such cells)"
        )


def _name_kind(text: str) -> str:
    """``index`` (digits, a sign allowed: checked against the pool), ``hash`` (32 hex digits in
    any case, not all of them digits) or ``other`` (a native form or a JSON cell)."""
    if text.lstrip("+-").isdigit() and len(text) != 32:
        return "index"
    if len(text) == 32 and all(c in "0123456789abcdefABCDEF" for c in text):
        return "hash"
    return "other"


def _rebuild_space(name: str, data_dir: str | Path | None, options: dict[str, Any]) -> SearchSpace:
    from arch2vec.spaces.registry import SPACES

    return SPACES[name](data_dir=data_dir, **options)
