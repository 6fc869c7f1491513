"""Read the official NAS-Bench-101 TFRecord file without TensorFlow or protobuf.

The file ``nasbench_only108.tfrecord`` (or ``nasbench_full.tfrecord``) is a plain
TFRecord stream. Every record is framed as::

    uint64 length            (little endian)
    uint32 masked CRC-32C of the 8 length bytes
    byte   data[length]
    uint32 masked CRC-32C of data

with ``masked = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) mod 2**32``. The data of
each record is UTF-8 JSON ``[module_hash, epochs, raw_adjacency, raw_operations,
raw_metrics]``: ``raw_adjacency`` is the flattened square 0/1 matrix as a digit string
(side = ``int(sqrt(len))``), ``raw_operations`` a comma-separated op list and
``raw_metrics`` the base64 of a serialized ``nasbench.ModelMetrics`` protobuf::

    message ModelMetrics {
      repeated EvaluationData evaluation_data = 1;
      optional int32 trainable_parameters = 2;
      optional double total_time = 3;
    }
    message EvaluationData {
      optional double current_epoch = 1;
      optional double training_time = 2;
      optional double train_accuracy = 3;
      optional double validation_accuracy = 4;
      optional double test_accuracy = 5;
      optional string checkpoint_path = 6;
    }

``evaluation_data`` holds three entries (initialisation, half-way, end of training); the
official API reports the end-of-training one as ``final_*``. This module uses the last
entry, which is that one.

Only numpy and the standard library are used. Reading checks the CRC of every length
field (cheap, cached); the CRC of the record data is checked only with ``verify=True``
(numpy-vectorised across records, a few seconds extra for the full file).
"""

from __future__ import annotations

import binascii
import json
import math
import os
import struct
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "crc32c",
    "crc32c_many",
    "masked_crc32c",
    "decode_model_metrics",
    "encode_model_metrics",
    "iter_records",
    "write_records",
    "encode_nb101_record",
    "parse_nb101_record",
    "read_nb101",
]

# ---------------------------------------------------------------------------------------
# CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, init/xorout 0xFFFFFFFF
# ---------------------------------------------------------------------------------------

_CRC_POLY = 0x82F63B78
_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _CRC_POLY if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()
_TABLE_NP = np.array(_TABLE, dtype=np.uint32)


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C (Castagnoli) of ``data`` (pure Python, table driven)."""
    table = _TABLE
    crc = _U32
    for b in bytes(data):
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ _U32


def _mask(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & _U32) + _MASK_DELTA) & _U32


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """The TFRecord-masked CRC-32C of ``data``."""
    return _mask(crc32c(data))


def crc32c_many(chunks: list[bytes]) -> np.ndarray:
    """CRC-32C of many byte strings at once (uint32 array), vectorised across strings.

    Runs one numpy step per byte position of the longest string, so it is fast for many
    short strings (TFRecord records) and slow for a few long ones (use :func:`crc32c`).
    """
    n = len(chunks)
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    lens = np.fromiter((len(c) for c in chunks), dtype=np.int64, count=n)
    order = np.argsort(-lens, kind="stable")  # longest first: active rows form a prefix
    lens_sorted = lens[order]
    maxlen = int(lens_sorted[0])
    flat = np.frombuffer(b"".join(chunks[i] for i in order), dtype=np.uint8)
    grid = np.zeros((n, maxlen), dtype=np.uint8)
    grid[np.arange(maxlen) < lens_sorted[:, None]] = flat
    cols = np.ascontiguousarray(grid.T)  # (maxlen, n): row j = byte j of every string
    # active[j] = number of strings longer than j
    active = n - np.searchsorted(lens_sorted[::-1], np.arange(maxlen), side="right")
    state = np.full(n, _U32, dtype=np.uint32)
    table = _TABLE_NP
    for j in range(maxlen):
        k = int(active[j])
        s = state[:k]
        s[:] = table[(s ^ cols[j, :k]) & 0xFF] ^ (s >> 8)
    out = np.empty(n, dtype=np.uint32)
    out[order] = state ^ np.uint32(_U32)
    return out


def _mask_np(crc: np.ndarray) -> np.ndarray:
    crc = crc.astype(np.uint64)
    rot = ((crc >> 15) | (crc << 17)) & _U32
    return ((rot + _MASK_DELTA) & _U32).astype(np.uint32)


# ---------------------------------------------------------------------------------------
# Protobuf wire format (just what ModelMetrics needs)
# ---------------------------------------------------------------------------------------

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_EVAL_DOUBLES = {
    1: "current_epoch",
    2: "training_time",
    3: "train_accuracy",
    4: "validation_accuracy",
    5: "test_accuracy",
}
_EVAL_FIELDS = (*_EVAL_DOUBLES.values(), "checkpoint_path")
_UNPACK_D = struct.Struct("<d").unpack_from


def _read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint longer than 10 bytes")


def _skip(buf: bytes, pos: int, end: int, wire: int) -> int:
    if wire == _VARINT:
        return _read_varint(buf, pos, end)[1]
    if wire == _I64:
        pos += 8
    elif wire == _I32:
        pos += 4
    elif wire == _LEN:
        n, pos = _read_varint(buf, pos, end)
        pos += n
    else:
        raise ValueError(f"unsupported wire type {wire}")
    if pos > end:
        raise ValueError("field runs past the end of the message")
    return pos


def _fields(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield ``(field_number, wire_type, value_start, value_end)`` for a message."""
    while pos < end:
        key, pos = _read_varint(buf, pos, end)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise ValueError("field number 0")
        start = pos
        if wire == _LEN:
            n, start = _read_varint(buf, pos, end)
            pos = start + n
            if pos > end:
                raise ValueError("field runs past the end of the message")
        else:
            pos = _skip(buf, pos, end, wire)
        yield field, wire, start, pos


def _to_int32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _decode_eval(buf: bytes, pos: int, end: int) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(_EVAL_DOUBLES.values(), 0.0)
    out["checkpoint_path"] = ""
    for field, wire, start, stop in _fields(buf, pos, end):
        if wire == _I64 and field in _EVAL_DOUBLES:
            out[_EVAL_DOUBLES[field]] = _UNPACK_D(buf, start)[0]
        elif wire == _LEN and field == 6:
            out["checkpoint_path"] = bytes(buf[start:stop]).decode("utf-8")
    return out


def decode_model_metrics(data: bytes) -> dict[str, Any]:
    """Decode a serialized ``nasbench.ModelMetrics`` message.

    Returns ``{"evaluation_data": [dict, ...], "trainable_parameters": int,
    "total_time": float}``; every evaluation dict has the six ``EvaluationData`` keys.
    Absent fields get protobuf defaults (0, 0.0, ""); unknown fields are skipped.
    Raises ValueError on malformed input.
    """
    buf = bytes(data)
    evals = []
    params = 0
    total_time = 0.0
    for field, wire, start, stop in _fields(buf, 0, len(buf)):
        if field == 1 and wire == _LEN:
            evals.append(_decode_eval(buf, start, stop))
        elif field == 2 and wire == _VARINT:
            params = _to_int32(_read_varint(buf, start, stop)[0])
        elif field == 3 and wire == _I64:
            total_time = _UNPACK_D(buf, start)[0]
    return {"evaluation_data": evals, "trainable_parameters": params, "total_time": total_time}


def _enc_varint(v: int) -> bytes:
    if v < 0:
        v += 1 << 64  # negative int32/int64: ten-byte two's complement
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _enc_len(field: int, payload: bytes) -> bytes:
    return _enc_varint(field << 3 | _LEN) + _enc_varint(len(payload)) + payload


def _enc_double(field: int, value: float) -> bytes:
    return _enc_varint(field << 3 | _I64) + struct.pack("<d", float(value))


def encode_model_metrics(metrics: dict[str, Any]) -> bytes:
    """Serialize a dict shaped like :func:`decode_model_metrics` output.

    Keys that are missing (or None) are not written, as for unset proto2 fields.
    """
    out = bytearray()
    for ev in metrics.get("evaluation_data", ()):
        msg = bytearray()
        for field, name in _EVAL_DOUBLES.items():
            if ev.get(name) is not None:
                msg += _enc_double(field, ev[name])
        if ev.get("checkpoint_path") is not None:
            msg += _enc_len(6, str(ev["checkpoint_path"]).encode("utf-8"))
        out += _enc_len(1, bytes(msg))
    if metrics.get("trainable_parameters") is not None:
        out += _enc_varint(2 << 3 | _VARINT) + _enc_varint(int(metrics["trainable_parameters"]))
    if metrics.get("total_time") is not None:
        out += _enc_double(3, metrics["total_time"])
    return bytes(out)


def _final_metrics(buf: bytes) -> tuple[float, float, float, int]:
    """Fast path: (training_time, validation_accuracy, test_accuracy, params) of the last
    ``evaluation_data`` entry, decoding nothing else."""
    end = len(buf)
    pos = 0
    last = None
    params = 0
    while pos < end:
        key = buf[pos]
        if key == 0x0A:  # field 1, length-delimited
            n, start = _read_varint(buf, pos + 1, end)
            pos = start + n
            if pos > end:
                raise ValueError("evaluation_data runs past the end of the message")
            last = (start, pos)
        elif key == 0x10:  # field 2, varint
            v, pos = _read_varint(buf, pos + 1, end)
            params = _to_int32(v)
        else:
            key, pos = _read_varint(buf, pos, end)
            if key >> 3 == 0:
                raise ValueError("field number 0")
            pos = _skip(buf, pos, end, key & 7)
    if last is None:
        raise ValueError("no evaluation_data")
    t = va = te = 0.0
    pos, end = last
    while pos < end:
        key = buf[pos]
        if key == 0x11 or key == 0x21 or key == 0x29:  # fields 2, 4, 5 as doubles
            if pos + 9 > end:
                raise ValueError("truncated double")
            v = _UNPACK_D(buf, pos + 1)[0]
            if key == 0x11:
                t = v
            elif key == 0x21:
                va = v
            else:
                te = v
            pos += 9
        else:
            key, pos = _read_varint(buf, pos, end)
            if key >> 3 == 0:
                raise ValueError("field number 0")
            pos = _skip(buf, pos, end, key & 7)
    return t, va, te, params


# ---------------------------------------------------------------------------------------
# TFRecord framing
# ---------------------------------------------------------------------------------------

_HEADER = struct.Struct("<QI")
_U32LE = struct.Struct("<I")
_CHUNK = 1 << 23
_VERIFY_BATCH = 8192


def _check_exists(path: str | os.PathLike) -> str:
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(f"TFRecord file not found: {p}")
    return p


def _frames(path: str, verify: bool) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(record_index, byte_offset, data)``; errors name file, record and offset."""
    size = os.path.getsize(path)
    len_crc_cache: dict[bytes, int] = {}
    pending: list[tuple[int, int, bytes, int]] = []

    def flush() -> Iterator[tuple[int, int, bytes]]:
        got = _mask_np(crc32c_many([p[2] for p in pending]))
        for (idx, off, data, want), have in zip(pending, got.tolist(), strict=True):
            if have != want:
                raise ValueError(
                    f"{path}: record {idx} at byte offset {off}: data CRC mismatch "
                    f"(stored 0x{want:08x}, computed 0x{have:08x}); file is corrupt"
                )
            yield idx, off, data
        pending.clear()

    with open(path, "rb") as f:
        buf = b""
        pos = 0  # position in buf
        base = 0  # file offset of buf[0]
        idx = 0
        while True:
            if len(buf) - pos < 12:
                buf = buf[pos:] + f.read(_CHUNK)
                base += pos
                pos = 0
                if not buf:
                    break
                if len(buf) < 12:
                    raise ValueError(
                        f"{path}: record {idx} at byte offset {base}: truncated header "
                        f"({len(buf)} of 12 bytes); file is truncated"
                    )
            off = base + pos
            head = buf[pos : pos + 8]
            length, len_crc = _HEADER.unpack_from(buf, pos)
            want = len_crc_cache.get(head)
            if want is None:
                want = masked_crc32c(head)
                if len(len_crc_cache) < 65536:
                    len_crc_cache[head] = want
            if want != len_crc:
                hint = " (not a TFRecord file?)" if idx == 0 else "; file is corrupt"
                raise ValueError(
                    f"{path}: record {idx} at byte offset {off}: length CRC mismatch{hint}"
                )
            need = 12 + length + 4
            if off + need > size:
                raise ValueError(
                    f"{path}: record {idx} at byte offset {off}: truncated record "
                    f"(needs {need} bytes, {size - off} left)"
                )
            if len(buf) - pos < need:
                buf = buf[pos:] + f.read(max(_CHUNK, need))
                base += pos
                pos = 0
                if len(buf) < need:  # file shrank while reading
                    raise ValueError(f"{path}: record {idx} at byte offset {off}: truncated record")
            data = buf[pos + 12 : pos + 12 + length]
            if verify:
                pending.append((idx, off, data, _U32LE.unpack_from(buf, pos + 12 + length)[0]))
                if len(pending) >= _VERIFY_BATCH:
                    yield from flush()
            else:
                yield idx, off, data
            pos += need
            idx += 1
    if pending:
        yield from flush()


def iter_records(path: str | os.PathLike, verify: bool = False) -> Iterator[bytes]:
    """Yield the raw data of each record of a TFRecord file.

    The masked CRC of every length field is always checked. With ``verify=True`` the data
    CRCs are checked too (in batches, so an error may come before records just ahead of
    the bad one are yielded). Raises FileNotFoundError, or ValueError naming the file,
    the (0-based) record and its byte offset.
    """
    p = _check_exists(path)
    for _, _, data in _frames(p, verify):
        yield data


def write_records(path: str | os.PathLike, records: Iterable[bytes]) -> int:
    """Write ``records`` as a TFRecord file (uncompressed); return how many were written."""
    n = 0
    with open(path, "wb") as f:
        for rec in records:
            rec = bytes(rec)
            head = struct.pack("<Q", len(rec))
            f.write(head)
            f.write(_U32LE.pack(masked_crc32c(head)))
            f.write(rec)
            f.write(_U32LE.pack(masked_crc32c(rec)))
            n += 1
    return n


# ---------------------------------------------------------------------------------------
# NAS-Bench-101 records
# ---------------------------------------------------------------------------------------


def encode_nb101_record(
    module_hash: str,
    epochs: int,
    adjacency: Any,
    operations: Any,
    metrics: dict[str, Any] | bytes,
) -> bytes:
    """Build one record in the official layout (JSON list, base64 metrics)."""
    if not isinstance(adjacency, str):
        adjacency = "".join(str(int(v)) for v in np.asarray(adjacency).ravel())
    if not isinstance(operations, str):
        operations = ",".join(operations)
    if isinstance(metrics, dict):
        metrics = encode_model_metrics(metrics)
    raw = binascii.b2a_base64(metrics, newline=False).decode("ascii")
    return json.dumps([module_hash, int(epochs), adjacency, operations, raw]).encode("utf-8")


def _split_record(data: bytes) -> list[Any]:
    row = json.loads(data)
    if not isinstance(row, list) or len(row) != 5:
        raise ValueError("expected a JSON list of 5 items")
    if not isinstance(row[0], str) or not isinstance(row[1], int) or isinstance(row[1], bool):
        raise ValueError("expected [hash: str, epochs: int, ...]")
    if not isinstance(row[4], str):
        raise ValueError("metrics item is not a base64 string")
    return row


def parse_nb101_record(data: bytes) -> dict[str, Any]:
    """Fully parse one record: hash, epochs, adjacency (int8 matrix), ops, metrics."""
    module_hash, epochs, raw_adj, raw_ops, raw_metrics = _split_record(data)
    dim = int(math.isqrt(len(raw_adj)))
    if dim * dim != len(raw_adj):
        raise ValueError(f"adjacency string of length {len(raw_adj)} is not square")
    adjacency = np.frombuffer(raw_adj.encode("ascii"), dtype=np.uint8) - ord("0")
    return {
        "hash": module_hash,
        "epochs": epochs,
        "adjacency": adjacency.astype(np.int8).reshape(dim, dim),
        "ops": raw_ops.split(","),
        "metrics": decode_model_metrics(binascii.a2b_base64(raw_metrics)),
    }


def read_nb101(
    path: str | os.PathLike,
    epochs: int = 108,
    progress: bool = False,
    verify: bool = False,
) -> dict[str, np.ndarray]:
    """Read NAS-Bench-101 results from the official TFRecord file.

    Keeps the records trained for ``epochs`` epochs and returns one row per distinct
    module hash, in first-seen file order:

    - ``hash`` (``<U32``), ``repeats`` (int64, number of records averaged),
    - ``valid_accuracy``, ``test_accuracy`` (fractions, mean over repeats of the final
      evaluation), ``train_seconds`` (mean final training time),
    - ``params`` (int64 trainable parameters, from the first record of the hash).

    ``verify=True`` also checks every data CRC (slower). ``progress=True`` shows progress
    (:mod:`arch2vec.progress`). Raises FileNotFoundError for a missing file and a one-line
    ValueError naming the record for framing, JSON or metrics errors, or when no record has
    ``epochs``.
    """
    p = _check_exists(path)
    index: dict[str, int] = {}
    hashes: list[str] = []
    params: list[int] = []
    rows: list[int] = []
    t_list: list[float] = []
    va_list: list[float] = []
    te_list: list[float] = []
    other_epochs: set[int] = set()
    a2b = binascii.a2b_base64
    loads = json.loads

    from arch2vec.progress import Progress

    size_mb = -(-os.path.getsize(p) // 2**20)
    bar = Progress(total=size_mb, unit="MB", desc=f"read {os.path.basename(p)}", enabled=progress)
    n_total = 0
    try:
        for idx, off, data in _frames(p, verify):
            n_total += 1
            if idx % 8192 == 0:
                bar.set(off // 2**20)
            try:
                row = loads(data)
                module_hash, ep, _, _, raw = row
                if type(ep) is not int or type(module_hash) is not str or type(raw) is not str:
                    raise ValueError("expected [hash: str, epochs: int, str, str, str]")
            except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
                msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise ValueError(
                    f"{p}: record {idx} at byte offset {off}: malformed JSON record: {msg}"
                ) from None
            if ep != epochs:
                other_epochs.add(ep)
                continue
            try:
                t, va, te, n_params = _final_metrics(a2b(raw))
            except (ValueError, IndexError, struct.error) as exc:  # binascii.Error too
                raise ValueError(
                    f"{p}: record {idx} at byte offset {off}: malformed metrics: {exc}"
                ) from None
            i = index.get(module_hash)
            if i is None:
                i = index[module_hash] = len(hashes)
                hashes.append(module_hash)
                params.append(n_params)
            rows.append(i)
            t_list.append(t)
            va_list.append(va)
            te_list.append(te)
    finally:
        bar.set(size_mb)
        bar.close()

    if not hashes:
        if n_total == 0:
            raise ValueError(f"{p}: contains no records")
        raise ValueError(
            f"{p}: no records with epochs={epochs} (found epochs: {sorted(other_epochs)})"
        )
    n = len(hashes)
    rows_np = np.asarray(rows, dtype=np.int64)
    counts = np.bincount(rows_np, minlength=n)

    def mean(values: list[float]) -> np.ndarray:
        total = np.bincount(rows_np, weights=np.asarray(values, dtype=np.float64), minlength=n)
        return total / counts

    width = max(32, max(len(h) for h in hashes))
    return {
        "hash": np.asarray(hashes, dtype=f"<U{width}"),
        "valid_accuracy": mean(va_list),
        "test_accuracy": mean(te_list),
        "train_seconds": mean(t_list),
        "repeats": counts.astype(np.int64),
        "params": np.asarray(params, dtype=np.int64),
    }
