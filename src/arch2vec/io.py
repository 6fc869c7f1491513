"""Files: data-directory resolution, atomic writes, directory locks, checksummed array caches,
JSON lines, reading text and pickles safely.

Every write is atomic (a temporary file beside the target, then one rename), and one process owns
an output directory at a time (:class:`DirectoryLock`, an ``fcntl`` lock held for the life of
the process -- the kernel releases it when the process dies, so a killed owner never blocks a
resume). A pickle from outside is only ever read by :func:`restricted_load`, which refuses every
type it was not told to allow.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import pickle
import signal
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

ENV_DATA_DIR = "ARCH2VEC_DATA"
_log = logging.getLogger(__name__)


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            _fault_point(f)
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
    """Write strict JSON: a NaN or an infinity becomes null, never a bare ``NaN``."""
    text = json.dumps(jsonable(obj), indent=2, sort_keys=True, allow_nan=False)
    atomic_write_text(path, text + "\n")


TEMP_SUFFIX = ".tmp"
_writes = 0


def _fault_point(f: IO) -> None:
    """Testing hook: with ``ARCH2VEC_KILL_AT_WRITE=N`` in the environment, the N-th atomic write
    of the process SIGKILLs it halfway through (the temporary file written, not yet renamed)."""
    global _writes
    at = os.environ.get("ARCH2VEC_KILL_AT_WRITE")
    if not at:
        return
    _writes += 1
    if str(_writes) == at:
        f.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def remove_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files of atomic writes a killed process left in ``folder`` (only
    call it while holding the folder's :class:`DirectoryLock`); returns what was removed."""
    removed = []
    folder = Path(folder)
    if folder.is_dir():
        for tmp in folder.glob(f".*{TEMP_SUFFIX}"):
            if tmp.is_file():
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
    return removed


class DirectoryLock:
    """Exclusive ownership of an output directory for the life of this process (or until
    :meth:`release`): a second owner -- another process, or this one again -- gets a one-line
    ``ValueError`` naming the holder's PID. The lock file is ``folder/.lock``; the kernel
    releases the lock when its process dies, so a stale lock never blocks a resume."""

    NAME = ".lock"

    def __init__(self, folder: str | os.PathLike, what: str = "directory") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / self.NAME
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(self._fd, blocking=False)
        except BlockingIOError:
            holder = self._holder()
            os.close(self._fd)
            self._fd = None
            raise ValueError(
                f"{self.folder}: this {what} is in use by process {holder} "
                "(one process owns a directory at a time)"
            ) from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def _holder(self) -> str:
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None

    def __enter__(self) -> DirectoryLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _lock(fd: int, blocking: bool) -> None:
    try:
        import fcntl
    except ImportError:  # no fcntl (Windows): no locking
        return
    fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))


@contextmanager
def file_lock(path: str | os.PathLike) -> Iterator[None]:
    """Wait for, then hold, an exclusive lock on ``path`` (created if missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _lock(fd, blocking=True)
        yield
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike) -> str:
    """A UTF-8 text file's content; one-line errors naming the file (missing, not text)."""
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: a directory, expected a file") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte {e.start})") from None


NUMPY_ARRAY_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    }
)
"""What a pickle of plain containers and NumPy arrays refers to (numpy 1 and 2 names)."""


class _Restricted(pickle.Unpickler):
    def __init__(self, file: IO[bytes], allowed: frozenset, what: str, **kw: Any) -> None:
        super().__init__(file, **kw)
        self.allowed, self.what = allowed, what

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.allowed:
            raise ValueError(f"{self.what}: refuses to load {module}.{name} (not plain data)")
        return super().find_class(module, name)


def restricted_load(
    path: str | os.PathLike, allowed: frozenset = frozenset(), encoding: str = "ASCII"
) -> Any:
    """Unpickle ``path`` allowing only built-in containers and scalars (dicts, lists, bytes,
    strings, numbers) and the ``(module, name)`` globals in ``allowed``; anything else (a
    crafted ``__reduce__``) is refused with a one-line ``ValueError`` naming the file."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            return _Restricted(f, allowed, str(path), encoding=encoding).load()
    except ValueError:
        raise
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except Exception as e:  # a damaged pickle raises almost anything
        raise ValueError(f"{path}: not a readable pickle ({type(e).__name__})") from None


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
        # numpy's stubs: an array named "allow_pickle" would land in that (numpy >= 2.1) flag
        (np.savez_compressed if compress else np.savez)(f, __meta__=meta_bytes, **arrays)  # type: ignore[arg-type, unused-ignore]


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
    with path.open("rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise CacheError(f"{path}: not an .npz file of arrays")
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
    with file_lock(path.with_name(f"{path.name}.lock")):  # a second process waits, then loads
        if not rebuild:
            try:
                return load_arrays(path, expect)[1]
            except CacheError as e:
                if path.exists() and log is not None:
                    log(f"rebuilding cache: {e}")
        arrays = build()
        save_arrays(path, expect, compress=False, **arrays)
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


def read_jsonl(
    path: str | Path,
    keys: Sequence[str] = (),
    check: Callable[[dict[str, Any]], bool] | None = None,
    what: str = "record",
) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file holding every key of ``keys`` (and passing ``check``),
    in file order. A line that does not parse (cut by a kill, edited), is not an object, lacks
    a key or fails ``check`` is skipped with one warning naming the file, the line and why
    (``what``: what a line should be). A missing file reads as empty; blank lines are ignored."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError:  # also a UnicodeDecodeError
                why = "not valid JSON" + ("" if raw.endswith(b"\n") else ": cut short")
            else:
                missing = [k for k in keys if k not in row] if isinstance(row, dict) else None
                if missing is None:
                    why = f"not a JSON object but {type(row).__name__}"
                elif missing:
                    why = f"no {missing[0]!r}"
                elif check is not None and not check(row):
                    why = "its fields have the wrong types or lengths"
                else:
                    rows.append(row)
                    continue
            _log.warning("%s line %d: skipped, not a %s (%s)", path, number, what, why)
    return rows


def append_line(path: str | Path, row: dict[str, Any]) -> None:
    """Append one JSON line, flushed and synced (a reader sees whole lines or a cut last one)."""
    with Path(path).open("a") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())
