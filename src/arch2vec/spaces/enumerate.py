"""Exact enumeration of op-on-node cells by isomorphism classes (NAS-Bench-101 and user spaces).

For each vertex count ``n`` the upper-triangular matrices with at most ``max_edges`` edges and no
dangling vertex are grouped into isomorphism classes by the minimum of their codes over all
permutations of the ``n - 2`` inner vertices; per class the first matrix in the official bit order
is kept. The labelings of a representative that are equivalent under its automorphisms give the
same cell, so only the labeling that is smallest in its orbit is kept: one cell per isomorphism
class of labelled cells. Practical up to 7 vertices (2^21 matrices, 120 inner permutations).
"""

from __future__ import annotations

import itertools

import numpy as np


def triu_index(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangle positions in the official bit order: bit ``x + y(y-1)/2`` is edge x -> y."""
    src, dst = [], []
    for y in range(1, n):
        for x in range(y):
            src.append(x)
            dst.append(y)
    return np.array(src), np.array(dst)


def popcount(x: np.ndarray) -> np.ndarray:
    count = np.zeros(x.shape, dtype=np.int64)
    x = x.copy()
    while x.any():
        count += x & 1
        x >>= 1
    return count


def full_dags(n: int, max_edges: int) -> np.ndarray:
    """All ``n``-vertex upper-triangular matrices with <= ``max_edges`` edges and no dangling
    vertex (every vertex but the input has an in-edge, every vertex but the output an out-edge:
    every vertex is on a path from the input to the output).

    Returned as ``(M, n, n)`` uint8 in increasing official bit order. The conditions are tested on
    the integer codes, one bit mask per vertex, so that only the few surviving codes (4,793 of the
    2**21 for ``n = 7``) are unpacked into matrices.
    """
    src, dst = triu_index(n)
    bits = np.arange(2 ** len(src), dtype=np.int64)
    weight = np.int64(1) << np.arange(len(src), dtype=np.int64)
    out_of = [weight[src == v].sum() for v in range(n - 1)]  # bits of the edges out of v
    into = [weight[dst == v].sum() for v in range(1, n)]  # bits of the edges into v
    for mask in out_of + into:
        bits = bits[(bits & mask) != 0]
    bits = bits[popcount(bits) <= max_edges]
    adj = np.zeros((len(bits), n, n), dtype=np.uint8)
    adj[:, src, dst] = (bits[:, None] >> np.arange(len(src))) & 1
    return adj


def inner_perms(n: int) -> np.ndarray:
    """All permutations of the inner vertices ``1..n-2`` (input and output fixed), ``(P, n)``."""
    inner = list(itertools.permutations(range(1, n - 1)))
    return np.array([(0, *p, n - 1) for p in inner], dtype=np.int64)


def _classes(n: int, max_edges: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(representatives (R, n, n), automorphisms (R, P) bool, inner perms (P, n))``: per
    isomorphism class of ``n``-vertex matrices the first in the official bit order, and which
    inner-vertex permutations map it onto itself."""
    adj = full_dags(n, max_edges)
    perms = inner_perms(n)
    weights = (np.int64(1) << np.arange(n * n, dtype=np.int64)).reshape(n, n)
    flat = adj.reshape(len(adj), -1).astype(np.int64)
    codes = np.empty((len(adj), len(perms)), dtype=np.int64)
    for k, p in enumerate(perms):
        # permuted[i, j] = adj[p[i], p[j]]
        codes[:, k] = flat @ weights[np.argsort(p)][:, np.argsort(p)].ravel()
    canon = codes.min(axis=1)
    _, first = np.unique(canon, return_index=True)
    first.sort()  # first member of each class in official bit order
    return adj[first], codes[first] == codes[first, :1], perms  # perms[0] is the identity


def count_labelled_classes(n: int, num_labels: int, max_edges: int) -> int:
    """How many cells :func:`labelled_classes` gives, counted without listing them: per
    representative, the orbits of its labelings under its automorphisms (Burnside's lemma: the
    mean over the automorphisms of ``num_labels ** cycles``)."""
    if n < 2:
        return 0
    reps, autos, perms = _classes(n, max_edges)
    if n == 2:
        return len(reps)
    cycles = np.array([_cycles(p[1:-1] - 1) for p in perms], dtype=np.int64)
    total = 0
    for row in autos:
        fixed = sum(num_labels ** int(c) for c in cycles[row])
        total += fixed // int(row.sum())
    return total


def _cycles(perm: np.ndarray) -> int:
    seen, count = set(), 0
    for start in range(len(perm)):
        if start not in seen:
            count += 1
            k = start
            while k not in seen:
                seen.add(k)
                k = int(perm[k])
    return count


LABELING_CHUNK = 1 << 18
"""Labelings examined at once by :func:`labelled_classes` (bounds its working memory)."""


def labelled_classes(n: int, num_labels: int, max_edges: int) -> tuple[np.ndarray, np.ndarray]:
    """Representatives of the isomorphism classes of ``n``-vertex cells whose ``n - 2`` inner
    vertices carry one of ``num_labels`` labels (input and output fixed), at most ``max_edges``
    edges and every vertex on an input-to-output path.

    Returns ``(adjacency (C, n, n) uint8, inner labels (C, n - 2) int8)``: per class of unlabelled
    matrices the first in the official bit order, and per representative the labelings that are
    smallest in their orbit under its automorphisms (labels read as a base-``num_labels`` number,
    first inner vertex most significant). Labelings are examined ``LABELING_CHUNK`` at a time.
    """
    reps, autos, perms = _classes(n, max_edges)
    m = n - 2
    place = num_labels ** np.arange(m - 1, -1, -1, dtype=np.int64)
    groups, group_of = np.unique(autos, axis=0, return_inverse=True)
    group_of = group_of.ravel()
    kept: list[list[np.ndarray]] = [[] for _ in groups]  # per group: kept labeling codes
    total = num_labels**m
    for start in range(0, total, LABELING_CHUNK):
        code = np.arange(start, min(start + LABELING_CHUNK, total), dtype=np.int64)
        labelings = (code[:, None] // place) % num_labels
        for g, members in enumerate(groups):
            keep = np.ones(len(code), dtype=bool)
            for p in perms[members]:  # label'[i] = label[p[i]]: the smallest in its orbit
                keep &= labelings[:, p[1:-1] - 1] @ place >= code
            kept[g].append(code[keep])
    codes = [np.concatenate(k) for k in kept]
    out_adj, out_lab = [], []
    for r in range(len(reps)):
        keep = codes[group_of[r]]
        out_adj.append(np.broadcast_to(reps[r], (len(keep), n, n)))
        out_lab.append((keep[:, None] // place) % num_labels)
    return np.concatenate(out_adj), np.concatenate(out_lab).astype(np.int8)
