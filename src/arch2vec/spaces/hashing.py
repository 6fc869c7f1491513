"""NAS-Bench-101's graph hash, computed for whole batches.

The official ``graph_util.hash_module(matrix, labeling)`` gives every vertex the MD5 of the string
``str((out_degree, in_degree, label))``, then, ``V`` times (``V`` = number of vertices), replaces
each vertex's hash with the MD5 of ``''.join(sorted(in-neighbour hashes)) + '|' +
''.join(sorted(out-neighbour hashes)) + '|' + own hash``; the fingerprint is the MD5 of
``str(sorted(vertex hashes))``. NAS-Bench-101 data is keyed by these 32-hex strings.

This module computes the same strings without a Python loop per vertex or per cell:

* Vertex hashes are held as ranks. After each round the distinct digests of the batch are sorted
  (big-endian bytes, which is the order of their hex strings) and every vertex holds the rank of
  its digest, so sorting neighbour hashes is sorting small integers, and a message is identified
  by a short row of ranks (sorted in-neighbours, sorted out-neighbours, own).
* Vertices are grouped by (in-degree, out-degree): every group's messages have one length and are
  assembled with array indexing from a hex table of the round's distinct digests.
* Repeated messages are hashed once. In the first rounds few distinct hashes exist and the same
  neighbourhoods recur in many cells (over all NAS-Bench-101 cells, 2% of the first round's
  messages and 64% of the second's are distinct; from the third round on over 97% are): while a
  round's distinct hashes are at most half its vertices, and a group's rows of ranks pack into one
  64-bit key, the rows are deduplicated and only the distinct messages are hashed.
* Cells are hashed in blocks of :data:`_BLOCK` cells, small enough for a round's arrays to stay in
  the CPU caches; large batches are shared among worker processes, block by block.
* The one Python loop left is one MD5 call per distinct message (about 17 million for the 423,624
  NAS-Bench-101 cells, about 60% of the time). It uses CPython's built-in MD5 (module ``_md5``)
  where present: it has less set-up per call than the OpenSSL-backed ``hashlib.md5``, so it is
  about 1.5 times as fast on these 66-250 byte messages (measured on x86-64, OpenSSL 3.0); the
  digests are the same.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import struct
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from arch2vec.progress import Progress

try:
    from _md5 import md5 as _MD5
except ImportError:  # a CPython built without its own hash modules
    _MD5 = hashlib.md5


def _hex_pairs() -> np.ndarray:
    """Table: a digest's 2-byte pair, read as a native uint16 -> its 4 hex digits as one uint32.

    With it, hexing 16 bytes is one gather of 8 table entries (256 KiB, stays in cache).
    """
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    byte = np.arange(256)
    two = np.stack([digits[byte >> 4], digits[byte & 15]], axis=1)  # byte -> its 2 hex digits
    pairs = np.arange(2**16, dtype=np.uint16).view(np.uint8).reshape(-1, 2)  # uint16 -> its bytes
    return np.ascontiguousarray(two[pairs].reshape(-1, 4)).view(np.uint32)[:, 0]


_HEX_PAIR = _hex_pairs()
_PIPE = ord("|")
# Cells hashed together: blocks this small keep a round's arrays in the CPU caches (the whole hash
# is ~25% faster than with blocks of 50,000 cells), and they still share most repeated messages.
_BLOCK = 2048


def _md5(messages: np.ndarray) -> np.ndarray:
    """MD5 digests of each row of a ``(M, L)`` uint8 array -> ``(M, 16)``.

    ``struct.iter_unpack`` cuts the rows into bytes objects faster than ``tolist()`` does (and
    keeps trailing NUL bytes).
    """
    count, length = messages.shape
    if count == 0:
        return np.zeros((0, 16), dtype=np.uint8)
    # numpy's stubs give ndarray the buffer protocol (__buffer__) only for Python >= 3.12
    rows = struct.iter_unpack(f"{length}s", np.ascontiguousarray(messages))  # type: ignore[arg-type, unused-ignore]
    md5 = _MD5
    digests = b"".join([md5(m).digest() for (m,) in rows])
    return np.frombuffer(digests, dtype=np.uint8).reshape(count, 16)


def _hex(digests: np.ndarray) -> np.ndarray:
    """``(..., 16)`` raw digests -> ``(..., 32)`` uint8 lowercase hex."""
    return _HEX_PAIR[np.ascontiguousarray(digests, dtype=np.uint8).view(np.uint16)].view(np.uint8)


def hex_digests(digests: np.ndarray) -> np.ndarray:
    """``(B, 16)`` raw MD5 digests -> ``(B,)`` 32-character lowercase hex strings (``<U32``)."""
    digests = np.asarray(digests, dtype=np.uint8).reshape(-1, 16)
    return _hex(digests).view("S32").ravel().astype("U32")


def all_distinct(digests: np.ndarray) -> bool:
    """Whether the rows of a ``(B, 16)`` array of raw digests are pairwise different."""
    first, _ = _unique(*_halves(digests))
    return len(first) == len(digests)


def _halves(digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(hi, lo)``: the big-endian uint64 halves of ``(U, 16)`` digests, which order like the
    digests' hex strings."""
    halves = np.ascontiguousarray(digests, dtype=np.uint8).view(">u8")
    return halves[:, 0].astype(np.uint64), halves[:, 1].astype(np.uint64)


def _unique(hi: np.ndarray, lo: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys of ``hi`` (uint64), or of the 128-bit keys ``(hi, lo)``, in increasing order.

    Returns ``(first, rank)``: the index of one element holding each distinct key, by increasing
    key, and for every element the rank of its key among the distinct keys. One unstable argsort
    of ``hi``; a full 128-bit sort only where different keys share ``hi``.
    """
    order = np.argsort(hi)
    h = hi[order]
    new = np.empty(len(h), dtype=bool)
    new[:1] = True
    np.not_equal(h[1:], h[:-1], out=new[1:])
    if lo is not None:
        low = lo[order]
        if (~new[1:] & (low[1:] != low[:-1])).any():  # same first 64 bits, different keys
            order = np.lexsort((lo, hi))
            h, low = hi[order], lo[order]
            new[1:] = (h[1:] != h[:-1]) | (low[1:] != low[:-1])
    rank = np.empty(len(h), dtype=np.intp)
    rank[order] = np.cumsum(new) - 1
    return order[new], rank


def _ranked(digests: np.ndarray, of_vertex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort and deduplicate a round's digests.

    ``digests`` is ``(U, 16)``, and vertex ``v`` has digest ``digests[of_vertex[v]]``. Returns
    ``(table, rank)``: the distinct digests in increasing byte order (the order of their hex
    strings) and the index in ``table`` of every vertex's digest.
    """
    first, rank = _unique(*_halves(digests))
    return np.take(digests, first, axis=0), rank[of_vertex]


def _sort_columns(columns: list[np.ndarray]) -> list[np.ndarray]:
    """Sort the rows of a matrix given as a list of its columns (one array per column).

    Few columns (the usual 1-4 neighbours): an odd-even transposition network of elementwise
    ``minimum``/``maximum`` over whole columns, much faster than ``np.sort`` along short rows.
    """
    k = len(columns)
    if k > 8:
        return list(np.sort(np.stack(columns, axis=1), axis=1).T)
    columns = list(columns)
    for step in range(k):
        for j in range(step % 2, k - 1, 2):
            a, b = columns[j], columns[j + 1]
            columns[j], columns[j + 1] = np.minimum(a, b), np.maximum(a, b)
    return columns


def _distinct(columns: list[np.ndarray], bits: int | None) -> tuple[list[np.ndarray], np.ndarray]:
    """Deduplicate the rows of a matrix given as columns of ranks below ``2**bits``.

    Returns the distinct rows (as columns) and, for every row, the index of its distinct row.
    Skipped (the rows come back as they are) if ``bits`` is None or a row does not pack into one
    64-bit key.
    """
    if bits is None or len(columns) * bits > 64:
        return columns, np.arange(len(columns[0]))
    key = columns[0].astype(np.uint64)
    for column in columns[1:]:
        key <<= np.uint64(bits)
        key |= column.astype(np.uint64)
    first, inverse = _unique(key)
    return [column[first] for column in columns], inverse


def _messages(hexes: np.ndarray, columns: list[np.ndarray], ki: int, ko: int) -> np.ndarray:
    """``(M, 32 (ki + ko + 1) + 2)`` uint8 messages ``ins|outs|own`` from columns of ranks.

    ``hexes`` is the round's ``(K,)`` table of 32-byte hex strings (``V32``); ``columns`` holds
    the ``ki`` sorted in-neighbour ranks, the ``ko`` sorted out-neighbour ranks and the own rank.
    Each hex string is gathered straight into its place in the message.
    """
    msg = np.empty((len(columns[0]), 32 * len(columns) + 2), dtype=np.uint8)
    pos = 0
    for j, column in enumerate(columns):
        pipes = (j == ki) + (j == ki + ko)  # the '|' before the outs and before the own hash
        msg[:, pos : pos + pipes] = _PIPE
        pos += pipes
        msg[:, pos : pos + 32].view("V32")[:, 0] = hexes[column]
        pos += 32
    return msg


def _neighbours(adj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``(B, n, n)`` bool ``adj``: ``(sources, start)``, where the in-neighbours of flat vertex
    ``x = b * n + v`` are ``sources[start[x] : start[x] + in_degree[x]]`` (flat indices)."""
    batch, n, _ = adj.shape
    cell, dst, src = np.nonzero(adj.transpose(0, 2, 1))  # edges src -> dst, ordered by (cell, dst)
    start = np.zeros(batch * n, dtype=np.intp)
    np.cumsum(adj.sum(axis=1).ravel()[:-1], out=start[1:])
    return cell * n + src, start


def _hash_fixed(adj: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Hash a batch of cells that all have exactly ``n`` vertices -> ``(B, 16)`` raw digests."""
    batch, n = labels.shape
    adj = adj.astype(bool)
    out_deg = adj.sum(axis=2)
    in_deg = adj.sum(axis=1)

    # Round 0: md5(str((out_degree, in_degree, label))) of the few distinct triples, told apart
    # by one integer key (np.unique over rows would sort slowly).
    names, label_index = np.unique(labels.astype(np.int64), return_inverse=True)
    key = (label_index.reshape(batch, n) * (n + 1) + out_deg) * (n + 1) + in_deg
    keys, inverse = np.unique(key.ravel(), return_inverse=True)
    lab, degrees = np.divmod(keys, (n + 1) ** 2)
    key_out, key_in = np.divmod(degrees, n + 1)
    triples = zip(key_out.tolist(), key_in.tolist(), names[lab].tolist(), strict=True)
    digest = b"".join(hashlib.md5(f"({o}, {i}, {a})".encode()).digest() for o, i, a in triples)
    table, rank = _ranked(np.frombuffer(digest, dtype=np.uint8).reshape(-1, 16), inverse.ravel())
    # table: distinct digests in hex order; rank[b * n + v]: index of vertex v of cell b in table

    # Vertices grouped by (in-degree, out-degree); per group the columns of neighbour indices.
    in_src, in_start = _neighbours(adj)
    out_dst, out_start = _neighbours(adj.transpose(0, 2, 1))  # in-neighbours of the reverse graph
    group = (in_deg * (n + 1) + out_deg).ravel()
    order = np.argsort(group, kind="stable")
    groups = []
    for sel in np.split(order, np.flatnonzero(np.diff(group[order])) + 1) if len(order) else []:
        ki, ko = divmod(int(group[sel[0]]), n + 1)
        ins = [in_src[in_start[sel] + j] for j in range(ki)]
        outs = [out_dst[out_start[sel] + j] for j in range(ko)]
        groups.append((sel, ins, outs))

    for _ in range(n):
        hexes = _hex(table).view("V32")[:, 0]
        # A message holds its vertex's own hash, so a round has at least len(table) distinct
        # messages: deduplicating pays only while hashes are few (the first two or three rounds).
        bits = max(int(len(table) - 1).bit_length(), 1) if 2 * len(table) <= batch * n else None
        digests, of_vertex, offset = [], np.empty(batch * n, dtype=np.intp), 0
        for sel, ins, outs in groups:
            columns = _sort_columns([rank[c] for c in ins])
            columns += _sort_columns([rank[c] for c in outs])
            columns, inverse = _distinct([*columns, rank[sel]], bits)
            digests.append(_md5(_messages(hexes, columns, len(ins), len(outs))))
            of_vertex[sel] = offset + inverse
            offset += len(columns[0])
        table, rank = _ranked(np.concatenate(digests), of_vertex)

    # Fingerprint: md5(str(sorted(hashes))) == "['h1', 'h2', ...]".
    hexes = _hex(table).view("V32")[:, 0]
    chunk = np.empty((batch, n, 36), dtype=np.uint8)
    chunk[:, :, 0] = ord("'")
    chunk[:, :, 1:33].view("V32")[..., 0] = hexes[np.sort(rank.reshape(batch, n), axis=1)]
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


def wl_digests(
    adjacency: np.ndarray,
    labels: np.ndarray,
    num_vertices: np.ndarray | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """:func:`wl_hash` as ``(B, 16)`` uint8 raw MD5 digests instead of hex strings."""
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
        for part in np.array_split(sel, -(-len(sel) // _BLOCK)):
            jobs.append((adjacency[part, :n, :n], labels[part, :n]))
            where.append(part)
    out = np.zeros((batch, 16), dtype=np.uint8)
    bar = Progress(total=batch, desc=f"hash {batch:,} cells", unit="cell", enabled=progress)
    if workers > 1 and len(jobs) > 1:
        ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        from arch2vec.executor import die_with_parent

        with ProcessPoolExecutor(
            min(workers, len(jobs)),
            mp_context=ctx,
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            # four blocks per task: little inter-process traffic, short tail on the last task
            results = pool.map(_hash_chunks, jobs, chunksize=4)
            with bar:
                for part, digests in zip(where, results, strict=True):
                    out[part] = digests
                    bar.update(len(part))
    else:
        with bar:
            for part, job in zip(where, jobs, strict=True):
                out[part] = _hash_fixed(*job)
                bar.update(len(part))
    return out


def wl_hash(
    adjacency: np.ndarray,
    labels: np.ndarray,
    num_vertices: np.ndarray | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """The official NAS-Bench-101 graph hash of every cell in a batch.

    Args:
        adjacency: ``(B, N, N)`` 0/1 upper-triangular adjacency (one ``(N, N)`` matrix is a batch
            of one).
        labels: ``(B, N)`` integer vertex labels (NAS-Bench-101: -1 input, -2 output, 0 conv3x3,
            1 conv1x1, 2 maxpool).
        num_vertices: ``(B,)`` number of real vertices per cell; vertices ``n..N-1`` are padding
            and ignored. Default: all ``N``.
        workers: processes sharing the work (default: one per CPU core from 50,000 cells on).
        progress: count the cells hashed (:mod:`arch2vec.progress`).

    Returns:
        ``(B,)`` array of 32-character lowercase hex strings (dtype ``<U32``).
    """
    return hex_digests(wl_digests(adjacency, labels, num_vertices, workers, progress))
