import hashlib
import itertools

import numpy as np
import pytest

from arch2vec.spaces.hashing import wl_hash


def reference_hash(matrix: np.ndarray, labeling: list[int]) -> str:
    """Plain transcription of the documented NAS-Bench-101 hash, one vertex at a time."""
    n = len(labeling)
    out_deg = matrix.sum(axis=1).tolist()
    in_deg = matrix.sum(axis=0).tolist()
    h = [
        hashlib.md5(str(t).encode()).hexdigest()
        for t in zip(out_deg, in_deg, labeling, strict=True)
    ]
    for _ in range(n):
        h = [
            hashlib.md5(
                (
                    "".join(sorted(h[w] for w in range(n) if matrix[w, v]))
                    + "|"
                    + "".join(sorted(h[w] for w in range(n) if matrix[v, w]))
                    + "|"
                    + h[v]
                ).encode()
            ).hexdigest()
            for v in range(n)
        ]
    return hashlib.md5(str(sorted(h)).encode()).hexdigest()


# A real NAS-Bench-101 cell and its official key (a row of the NAS-Bench-101 data).
KNOWN_MATRIX = np.array(
    [
        [0, 1, 0, 0, 1, 1, 0],
        [0, 0, 1, 0, 0, 0, 0],
        [0, 0, 0, 1, 0, 0, 1],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ]
)
KNOWN_LABELS = [-1, 0, 2, 0, 0, 1, -2]
KNOWN_KEY = "00005c142e6f48ac74fdcf73e3439874"


def random_dags(rng, batch, n, p=0.4):
    adj = np.triu(rng.random((batch, n, n)) < p, k=1).astype(np.uint8)
    labels = rng.integers(0, 3, size=(batch, n))
    labels[:, 0], labels[:, -1] = -1, -2
    return adj, labels


def test_known_official_key():
    assert reference_hash(KNOWN_MATRIX, KNOWN_LABELS) == KNOWN_KEY
    assert wl_hash(KNOWN_MATRIX, KNOWN_LABELS)[0] == KNOWN_KEY


@pytest.mark.parametrize("n", [2, 3, 5, 7, 8, 11])
def test_matches_reference_on_random_graphs(n):
    rng = np.random.default_rng(n)
    adj, labels = random_dags(rng, 200, n)
    got = wl_hash(adj, labels)
    want = [reference_hash(a, lab.tolist()) for a, lab in zip(adj, labels, strict=True)]
    assert got.tolist() == want


def test_mixed_sizes_with_padding():
    rng = np.random.default_rng(1)
    sizes = rng.integers(2, 8, size=300)
    adj, labels = random_dags(rng, 300, 7)
    for k, n in enumerate(sizes):
        adj[k, n:, :] = 0
        adj[k, :, n:] = 0
        labels[k, n:] = 99  # padding labels are ignored
    got = wl_hash(adj, labels, sizes)
    want = [reference_hash(adj[k, :n, :n], labels[k, :n].tolist()) for k, n in enumerate(sizes)]
    assert got.tolist() == want


def test_invariant_under_inner_permutation():
    perms = [(0, *p, 6) for p in itertools.permutations(range(1, 6))][:30]
    adj = np.stack([KNOWN_MATRIX[np.ix_(p, p)] for p in perms])
    labels = np.stack([np.array(KNOWN_LABELS)[list(p)] for p in perms])
    assert set(wl_hash(adj, labels).tolist()) == {KNOWN_KEY}


def test_different_graphs_differ():
    other = KNOWN_MATRIX.copy()
    other[0, 6] = 1
    assert wl_hash(other, KNOWN_LABELS)[0] != KNOWN_KEY
    assert wl_hash(KNOWN_MATRIX, [-1, 1, 2, 0, 0, 1, -2])[0] != KNOWN_KEY


def test_worker_processes_give_same_result():
    rng = np.random.default_rng(7)
    adj, labels = random_dags(rng, 30_000, 7)
    assert (wl_hash(adj, labels, workers=2) == wl_hash(adj, labels, workers=1)).all()


def test_shape_mismatch_is_one_line_error():
    with pytest.raises(ValueError, match="does not match"):
        wl_hash(np.zeros((2, 3, 3)), np.zeros((2, 4)))
