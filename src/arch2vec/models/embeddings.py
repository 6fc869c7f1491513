"""Cell embeddings aligned with a space's pool: vectors, pool index, hash and native names.

:class:`Embeddings` is what pre-training produces and what search and analysis consume. It
behaves as the ``(num_cells, d)`` float32 array of its vectors (``np.asarray(emb)``), and carries
the space's name, each row's pool index and hash, and the cells' native names (NB-201 arch
strings, DARTS genotypes; for NB-101 and spec spaces ``{"matrix", "ops"}`` as JSON text). Files:
``.npz`` with arrays ``embeddings``, ``index``, ``hash`` and ``native``, read without pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import __version__, io
from arch2vec.spaces.base import SearchSpace


@dataclass(eq=False)
class Embeddings:
    """``vectors`` ``(n, d)`` float32, row ``k`` the embedding of pool cell ``index[k]``."""

    vectors: np.ndarray
    space: str
    index: np.ndarray | None = None
    hash: np.ndarray | None = None
    native: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2:
            raise ValueError(f"embeddings: expected (cells, d) vectors, got {self.vectors.shape}")
        n = len(self.vectors)
        self.index = np.arange(n) if self.index is None else np.asarray(self.index, np.int64)
        for name in ("index", "hash", "native"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"embeddings: {len(value)} {name} entries for {n} vectors")

    @classmethod
    def of_space(cls, space: SearchSpace, vectors: np.ndarray, **meta: Any) -> Embeddings:
        """Embeddings of every cell of ``space``'s pool, in pool order."""
        pool = space.all()
        if len(vectors) != len(pool):
            raise ValueError(f"embeddings: {len(vectors)} vectors for {len(pool)} cells")
        native = None
        try:
            names = space.to_native(pool)
        except NotImplementedError:  # a space without a native form
            names = None
        if names is not None:
            native = np.asarray(
                [x if isinstance(x, str) else json.dumps(x, separators=(",", ":")) for x in names],
                dtype=str,
            )
        return cls(
            vectors,
            space.name,
            np.arange(len(pool)),
            space.hashes().astype("U32"),
            native,
            {**meta, "space_options": space.options(), "space_fingerprint": space.fingerprint()},
        )

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.vectors if dtype is None else self.vectors.astype(dtype)

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.vectors.shape

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def save(self, path: str | Path, **meta: Any) -> Path:
        """Write an ``.npz`` (atomically, checksummed); returns its path."""
        assert self.index is not None  # __post_init__ sets it
        arrays: dict[str, np.ndarray] = {"embeddings": self.vectors, "index": self.index}
        if self.hash is not None:
            arrays["hash"] = np.asarray(self.hash).astype("S32")
        if self.native is not None:
            arrays["native"] = np.char.encode(np.asarray(self.native, dtype=str), "utf-8")
        info = {**self.meta, **meta, "space": self.space, "arch2vec": __version__}
        io.save_arrays(path, info, compress=self.native is not None, **arrays)
        return Path(path)

    @classmethod
    def read(cls, path: str | Path) -> Embeddings:
        """An ``.npz`` written by :meth:`save` (or ``arch2vec embed``)."""
        path = Path(path)
        if path.suffix.lower() != ".npz" and path.is_file():
            raise ValueError(
                f"{path}: not an embeddings file (expected an .npz from arch2vec embed)"
            )
        try:
            meta, arrays = io.load_arrays(path)
        except io.CacheError as e:
            raise ValueError(f"{e} (expected an embeddings .npz from arch2vec embed)") from None
        if "embeddings" not in arrays or not meta.get("space"):
            raise ValueError(f"{path}: not an embeddings file (no embeddings array or space)")
        hashes, native = arrays.get("hash"), arrays.get("native")
        for name, array in (("hash", hashes), ("native", native)):
            if array is not None and array.dtype.kind not in "SU":
                raise ValueError(f"{path}: array {name!r} holds {array.dtype}, expected text")
        if native is not None and native.dtype.kind == "S":  # UTF-8 bytes (U: older files)
            native = np.char.decode(native, "utf-8")
        return cls(
            arrays["embeddings"],
            str(meta["space"]),
            arrays.get("index"),
            None if hashes is None else hashes.astype("U32"),
            native,
            {k: v for k, v in meta.items() if k not in ("space", "sha256")},
        )

    def load_space(self, data_dir: str | Path | None = None) -> SearchSpace:
        """The space these embeddings are of (its registered name and options)."""
        from arch2vec import spaces

        return spaces.get(self.space, data_dir=data_dir, **self.meta.get("space_options", {}))

    def check_space(self, space: SearchSpace, what: str = "embeddings") -> np.ndarray:
        """The vectors by pool index of ``space``; a one-line error if they are another space's:
        another fingerprint (files from before fingerprints: other hashes, or another name or
        size)."""
        n = len(space.all())
        mine = self.meta.get("space_fingerprint")
        if mine is not None:
            same = mine == space.fingerprint()
        elif self.hash is not None:
            same = len(self.hash) == n and np.array_equal(self.hash, space.hashes())
        else:
            same = self.space == space.name and len(self.vectors) == n
        if not same:
            raise ValueError(
                f"{what}: embeddings of {self.space} ({len(self.vectors)} cells, fingerprint "
                f"{mine or 'not recorded'}), not of {space.describe()} ({n} cells)"
            )
        assert self.index is not None  # __post_init__ sets it
        if len(self.vectors) != n or not np.array_equal(self.index, np.arange(n)):
            raise ValueError(f"{what}: rows are not the {space.name} pool in order")
        return self.vectors
