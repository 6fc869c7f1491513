"""NAS-Bench-101's graph hash, computed for whole batches.

The official ``graph_util.hash_module(matrix, labeling)`` gives every vertex the MD5 of the string
``str((out_degree, in_degree, label))``, then, ``V`` times (``V`` = number of vertices), replaces
each vertex's hash with the MD5 of ``''.join(sorted(in-neighbour hashes)) + '|' +
''.join(sorted(out-neighbour hashes)) + '|' + own hash``; the fingerprint is the MD5 of
``str(sorted(vertex hashes))``. NAS-Bench-101 data is keyed by these 32-hex strings.

This module computes the same strings without a Python loop per vertex or per cell: vertices are
grouped by (in-degree, out-degree), so every group's messages have one length and are assembled
with array indexing; neighbours are ordered by the first 64 bits of their digest (the order of the
hex strings; a tie between different digests falls back to the full 128 bits); the only Python
loop left is one ``hashlib.md5`` call per message, about 0.4 us each.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX2 = np.stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 15]], axis=1)  # byte -> 2 hex
_PIPE = ord("|")
_CHUNK = 50_000


def _md5(messages: np.ndarray) -> np.ndarray:
    """MD5 digests of each row of a ``(M, L)`` uint8 array (rows without NUL bytes) -> (M, 16)."""
    count, length = messages.shape
    if count == 0:
        return np.zeros((0, 16), dtype=np.uint8)
    rows = np.ascontiguousarray(messages).view(f"S{length}").ravel().tolist()
    md5 = hashlib.md5
    digests = b"".join([md5(m).digest() for m in rows])
    return np.frombuffer(digests, dtype=np.uint8).reshape(count, 16)


def _hex(digests: np.ndarray) -> np.ndarray:
    """``(..., 16)`` raw digests -> ``(..., 32)`` uint8 lowercase hex."""
    return _HEX2[digests].reshape(*digests.shape[:-1], 32)


def _sort_keys(digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Big-endian ``(hi, lo)`` uint64 halves of ``(..., 16)`` digests: they sort like the hex."""
    d = np.ascontiguousarray(digests)
    hi = d[..., :8].copy().view(">u8")[..., 0].astype(np.uint64)
    lo = d[..., 8:].copy().view(">u8")[..., 0].astype(np.uint64)
    return hi, lo


def _sorted_positions(pos: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Reorder each row of ``pos`` (indices into ``hi``/``lo``) by increasing (hi, lo)."""
    if pos.shape[1] < 2:
        return pos
    key = hi[pos]
    if pos.shape[1] == 2:  # the common case: one comparison instead of a sort
        swap = key[:, 0] > key[:, 1]
        ordered = np.where(swap[:, None], pos[:, ::-1], pos)
    else:
        ordered = np.take_along_axis(pos, np.argsort(key, axis=1, kind="stable"), axis=1)
    k = hi[ordered]
    tie = (k[:, 1:] == k[:, :-1]) & (lo[ordered][:, 1:] != lo[ordered][:, :-1])
    if tie.any():  # 64-bit prefix collision between different digests: use all 128 bits
        rows = np.flatnonzero(tie.any(axis=1))
        for r in rows:
            p = pos[r]
            ordered[r] = p[np.lexsort((lo[p], hi[p]))]
    return ordered


def _hash_fixed(adj: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Hash a batch of cells that all have exactly ``n`` vertices -> ``(B, 16)`` raw digests."""
    batch, n = labels.shape
    adj = adj.astype(bool)
    out_deg = adj.sum(axis=2)
    in_deg = adj.sum(axis=1)

    # Round 0: md5(str((out_degree, in_degree, label))), a handful of distinct triples.
    triples = np.stack([out_deg, in_deg, labels], axis=-1).reshape(-1, 3).astype(np.int64)
    uniq, inverse = np.unique(triples, axis=0, return_inverse=True)
    first = [f"({o}, {i}, {lab})".encode() for o, i, lab in uniq.tolist()]
    digest = np.frombuffer(b"".join(hashlib.md5(s).digest() for s in first), dtype=np.uint8)
    digests = digest.reshape(-1, 16)[inverse.ravel()]  # (B * n, 16), flat vertex index b * n + v

    # Vertices grouped by (in-degree, out-degree): neighbour lists of fixed width per group.
    base = (np.arange(batch) * n)[:, None, None]
    cols = np.broadcast_to(np.arange(n), (batch, n, n))
    in_first = np.argsort(~adj.transpose(0, 2, 1), axis=2, kind="stable")  # in-neighbours first
    out_first = np.argsort(~adj, axis=2, kind="stable")
    group = (in_deg * (n + 1) + out_deg).ravel()
    groups = []
    for g in np.unique(group):
        sel = np.flatnonzero(group == g)
        ki, ko = divmod(int(g), n + 1)
        ins = (base + np.take_along_axis(cols, in_first, axis=2)).reshape(-1, n)[sel, :ki]
        outs = (base + np.take_along_axis(cols, out_first, axis=2)).reshape(-1, n)[sel, :ko]
        groups.append((sel, ins, outs))

    for _ in range(n):
        hexes = _hex(digests)
        hi, lo = _sort_keys(digests)
        new = np.empty_like(digests)
        for sel, ins, outs in groups:
            ki, ko = ins.shape[1], outs.shape[1]
            msg = np.empty((len(sel), 32 * (ki + ko + 1) + 2), dtype=np.uint8)
            pos = 32 * ki
            msg[:, :pos] = hexes[_sorted_positions(ins, hi, lo)].reshape(len(sel), -1)
            msg[:, pos] = _PIPE
            msg[:, pos + 1 : pos + 1 + 32 * ko] = hexes[_sorted_positions(outs, hi, lo)].reshape(
                len(sel), -1
            )
            pos += 1 + 32 * ko
            msg[:, pos] = _PIPE
            msg[:, pos + 1 :] = hexes[sel]
            new[sel] = _md5(msg)
        digests = new

    # Fingerprint: md5(str(sorted(hashes))) == "['h1', 'h2', ...]".
    hi, lo = _sort_keys(digests)
    order = _sorted_positions(np.arange(batch * n).reshape(batch, n), hi, lo)
    chunk = np.empty((batch, n, 36), dtype=np.uint8)
    chunk[:, :, 0] = ord("'")
    chunk[:, :, 1:33] = _hex(digests)[order]
    chunk[:, :, 33] = ord("'")
    chunk[:, :, 34] = ord(",")
    chunk[:, :, 35] = ord(" ")
    msg = np.empty((batch, 36 * n), dtype=np.uint8)
    msg[:, 0] = ord("[")
    msg[:, 1:-1] = chunk.reshape(batch, -1)[:, :-2]
    msg[:, -1] = ord("]")
    return _md5(msg)


def _hash_chunks(args: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return _hash_fixed(*args)


def wl_hash(
    adjacency: np.ndarray,
    labels: np.ndarray,
    num_vertices: np.ndarray | None = None,
    workers: int | None = None,
) -> np.ndarray:
    """The official NAS-Bench-101 graph hash of every cell in a batch.

    Args:
        adjacency: ``(B, N, N)`` 0/1 upper-triangular adjacency (one ``(N, N)`` matrix is a batch
            of one).
        labels: ``(B, N)`` integer vertex labels (NAS-Bench-101: -1 input, -2 output, 0 conv3x3,
            1 conv1x1, 2 maxpool).
        num_vertices: ``(B,)`` number of real vertices per cell; vertices ``n..N-1`` are padding
            and ignored. Default: all ``N``.

    Returns:
        ``(B,)`` array of 32-character lowercase hex strings (dtype ``<U32``).
    """
    adjacency = np.asarray(adjacency)
    labels = np.asarray(labels)
    if adjacency.ndim == 2:
        adjacency, labels = adjacency[None], labels[None]
    batch, size = labels.shape
    if adjacency.shape != (batch, size, size):
        raise ValueError(
            f"wl_hash: adjacency shape {adjacency.shape} does not match labels shape {labels.shape}"
        )
    if num_vertices is None:
        num_vertices = np.full(batch, size)
    num_vertices = np.asarray(num_vertices)
    if workers is None:
        workers = (os.cpu_count() or 1) if batch >= 50_000 else 1
    jobs, where = [], []
    for n in np.unique(num_vertices):
        sel = np.flatnonzero(num_vertices == n)
        n = int(n)
        # chunks of at most _CHUNK cells bound each process's memory
        parts = max(-(-len(sel) // _CHUNK), min(workers, len(sel) // 10_000), 1)
        for part in np.array_split(sel, parts):
            jobs.append((adjacency[part, :n, :n], labels[part, :n]))
            where.append(part)
    out = np.zeros((batch, 16), dtype=np.uint8)
    if workers > 1 and len(jobs) > 1:
        ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        from arch2vec.executor import die_with_parent

        with ProcessPoolExecutor(
            min(workers, len(jobs)),
            mp_context=ctx,
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            results = list(pool.map(_hash_chunks, jobs))
    else:
        results = [_hash_fixed(*job) for job in jobs]
    for part, digests in zip(where, results, strict=True):
        out[part] = digests
    return np.ascontiguousarray(_hex(out)).view("S32").ravel().astype("U32")
