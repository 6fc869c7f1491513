"""Files: data-directory resolution, atomic writes, checksummed array caches, JSON lines."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

ENV_DATA_DIR = "ARCH2VEC_DATA"


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data directory: ``path``, else ``$ARCH2VEC_DATA``, else ``~/.cache/arch2vec``."""
    if path is None:
        path = os.environ.get(ENV_DATA_DIR) or Path.home() / ".cache" / "arch2vec"
    return Path(path).expanduser()


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one rename.

    On any error the temporary file is removed and ``path`` keeps its old content, so a reader
    never sees half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_arrays(
    path: str | os.PathLike, meta: dict[str, Any], compress: bool = False, **arrays: np.ndarray
) -> None:
    """Atomically save ``arrays`` to an ``.npz`` with ``meta`` and a SHA-256 of the arrays
    (``compress``: zip-deflated, for arrays of text)."""
    meta = {**meta, "sha256": _checksum(arrays)}
    meta_bytes = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with atomic_open(path, "wb") as f:
        (np.savez_compressed if compress else np.savez)(f, __meta__=meta_bytes, **arrays)


class CacheError(ValueError):
    """A cache file is missing, truncated, corrupt or of another format."""


def load_arrays(
    path: str | os.PathLike, expect: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Load an ``.npz`` written by :func:`save_arrays`, verifying its checksum.

    ``expect`` lists metadata items that must match (format version, counts, ...).
    Raises :class:`CacheError` naming the file and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise CacheError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise CacheError(f"{path}: unreadable ({type(e).__name__}: {e})") from None
    raw = arrays.pop("__meta__", None)
    if raw is None:
        raise CacheError(f"{path}: no metadata; not an arch2vec cache")
    try:
        meta = json.loads(raw.tobytes().decode())
    except ValueError:
        raise CacheError(f"{path}: corrupt metadata") from None
    if meta.get("sha256") != _checksum(arrays):
        raise CacheError(f"{path}: checksum mismatch (corrupt or truncated)")
    for key, value in (expect or {}).items():
        if meta.get(key) != value:
            raise CacheError(f"{path}: {key} is {meta.get(key)!r}, expected {value!r}")
    return meta, arrays


def cached_arrays(
    path: Path,
    expect: dict[str, Any],
    build: Callable[[], dict[str, np.ndarray]],
    rebuild: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, np.ndarray]:
    """Load arrays from ``path``; if missing, corrupt or stale, ``build()`` and save them."""
    if not rebuild:
        try:
            return load_arrays(path, expect)[1]
        except CacheError as e:
            if path.exists() and log is not None:
                log(f"rebuilding cache: {e}")
    arrays = build()
    save_arrays(path, expect, **arrays)
    return arrays


def clean(values: Iterable[float]) -> list[float | None]:
    """A JSON-ready list: floats rounded to 6 decimals, NaN and infinities as null."""
    return [None if v is None or not math.isfinite(v) else round(float(v), 6) for v in values]


def jsonable(value: Any) -> Any:
    """JSON-safe copy: NumPy scalars and arrays as Python values, non-finite floats as null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def read_jsonl(path: str | Path, keys: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file holding every key of ``keys``, in file order; lines that
    do not parse (cut by a kill) or lack a key are skipped. A missing file reads as empty."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    with path.open("rb") as f:
        for raw in f:
            try:
                row = json.loads(raw)
            except ValueError:  # also a UnicodeDecodeError
                continue
            if isinstance(row, dict) and all(k in row for k in keys):
                rows.append(row)
    return rows


def append_line(path: str | Path, row: dict[str, Any]) -> None:
    """Append one JSON line, flushed and synced (a reader sees whole lines or a cut last one)."""
    with Path(path).open("a") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())
