import json

import numpy as np
import pytest
from conftest import shared_file

from arch2vec import io
from arch2vec.spaces import nb101
from arch2vec.spaces.cells import PAD, Cells
from arch2vec.spaces.nb101 import CONV1X1, CONV3X3, INPUT, MAXPOOL, OUTPUT, NB101Space

# label convention of the NAS-Bench-101 data files -> our op indices
FROM_FILE = {-1: INPUT, -2: OUTPUT, 0: CONV3X3, 1: CONV1X1, 2: MAXPOOL, -3: PAD}


def file_cells(data: dict) -> Cells:
    ops = np.vectorize(FROM_FILE.get)(np.array(data["operations"]))
    return Cells(np.array(data["adjacency"], dtype=np.uint8), ops, "nb101")


def reference_prune(matrix: np.ndarray, ops: list):
    """The official ModelSpec pruning, written out vertex by vertex."""
    n = len(ops)
    fwd, stack = {0}, [0]
    while stack:
        v = stack.pop()
        for w in range(v + 1, n):
            if matrix[v, w] and w not in fwd:
                fwd.add(w)
                stack.append(w)
    bwd, stack = {n - 1}, [n - 1]
    while stack:
        v = stack.pop()
        for w in range(v):
            if matrix[w, v] and w not in bwd:
                bwd.add(w)
                stack.append(w)
    keep = sorted(fwd & bwd)
    if len(keep) < 2:
        return None
    return matrix[np.ix_(keep, keep)], [ops[k] for k in keep]


def random_cells(rng, batch, p=0.35) -> Cells:
    adj = np.triu(rng.random((batch, 7, 7)) < p, k=1).astype(np.uint8)
    ops = rng.integers(1, 4, size=(batch, 7))
    ops[:, 0], ops[:, 6] = INPUT, OUTPUT
    return Cells(adj, ops, "nb101")


def test_space_has_exactly_the_published_cell_count(nb101_space):
    cells = nb101_space.all()
    assert len(cells) == nb101.NUM_CELLS == 423_624
    hashes = nb101_space.hashes()
    assert len(np.unique(hashes)) == 423_624
    assert nb101_space.is_valid(cells).all()
    assert cells.num_edges().max() == 9
    sizes = (cells.ops != PAD).sum(axis=1)
    assert sizes.min() == 2 and sizes.max() == 7 and (np.diff(sizes) >= 0).all()


def test_stored_hashes_equal_recomputed(nb101_space):
    pick = np.random.default_rng(0).choice(423_624, 20_000, replace=False)
    assert (nb101_space.hash(nb101_space.all()[pick]) == nb101_space.hashes()[pick]).all()


def test_structured_cells_hash_to_their_official_keys(nb101_1k):
    cells = file_cells(nb101_1k)
    space = NB101Space()
    assert space.is_valid(cells).all()
    assert space.hash(cells).tolist() == nb101_1k["key"]


def test_every_subset_key_is_in_the_enumeration(nb101_space):
    keys = set()
    for name in ("nb101_subset_1k.json", "nb101_subset_10k.json", "nb101_subset_20k.json"):
        keys.update(json.loads(shared_file(f"nb101/{name}").read_text())["key"])
    assert len(keys) == 30_001
    index = nb101_space.index_of(sorted(keys))
    assert (index >= 0).all()
    assert (nb101_space.hashes()[index] == np.array(sorted(keys))).all()
    assert nb101_space.index_of(["0" * 32])[0] == -1


def test_structured_cells_are_found_at_their_index(nb101_space, nb101_1k):
    idx = nb101_space.index_of(nb101_1k["key"])
    pool = nb101_space.all()[idx]
    # same cell up to isomorphism: same hash, same edge count and op multiset
    cells = file_cells(nb101_1k)
    assert (pool.num_edges() == cells.num_edges()).all()
    assert (np.sort(pool.ops, axis=1) == np.sort(cells.ops, axis=1)).all()


def test_prune_matches_official_rules_on_random_cells():
    rng = np.random.default_rng(3)
    cells = random_cells(rng, 3000)
    pruned, connected = nb101.prune(cells)
    for k in range(len(cells)):
        ref = reference_prune(cells.adjacency[k], cells.ops[k].tolist())
        assert connected[k] == (ref is not None)
        if ref is None:
            continue
        m = len(ref[1])
        assert (pruned.adjacency[k, :m, :m] == ref[0]).all()
        assert pruned.ops[k, :m].tolist() == ref[1] and (pruned.ops[k, m:] == PAD).all()
        assert pruned.adjacency[k, m:].sum() == 0 and pruned.adjacency[k, :, m:].sum() == 0


def test_is_valid_equals_membership_in_the_space(nb101_space):
    rng = np.random.default_rng(5)
    cells = random_cells(rng, 20_000, p=0.3)
    valid = nb101_space.is_valid(cells)
    assert 0.05 < valid.mean() < 0.95  # both outcomes exercised
    hashes = nb101_space.hash(cells)
    assert (hashes[~valid] == "").all()
    assert (nb101_space.index_of(hashes[valid]) >= 0).all()
    # invalid only by edge count: prune first, then count edges
    pruned, connected = nb101.prune(cells)
    over = connected & (pruned.num_edges() > 9)
    assert over.any() and not valid[over].any()


def test_validity_rules():
    space = NB101Space()
    chain = np.eye(7, k=1, dtype=np.uint8)
    ok = [INPUT, CONV1X1, CONV3X3, MAXPOOL, CONV1X1, CONV3X3, OUTPUT]
    cases = {
        "chain": (chain, ok, True),
        "output op inside": (chain, [INPUT, OUTPUT, 1, 1, 1, 1, OUTPUT], False),
        "input op inside": (chain, [INPUT, 1, INPUT, 1, 1, 1, OUTPUT], False),
        "no input first": (chain, [1, 1, 1, 1, 1, 1, OUTPUT], False),
        "padding inside": (chain, [INPUT, 1, PAD, 1, 1, 1, OUTPUT], False),
        "disconnected": (np.zeros((7, 7), np.uint8), ok, False),
    }
    # a dangling node with an illegal op is pruned away first, so the cell is valid
    dangling = chain.copy()
    dangling[5, 6] = 0
    dangling[4, 6] = 1
    cases["illegal op pruned away"] = (dangling, [INPUT, 1, 2, 3, 1, OUTPUT, OUTPUT], True)
    # ten edges, all on input-output paths
    dense = np.zeros((7, 7), np.uint8)
    dense[0, 1:6] = 1
    dense[1:6, 6] = 1
    assert dense.sum() == 10
    cases["ten live edges"] = (dense, ok, False)
    for name, (adj, ops, expected) in cases.items():
        assert space.is_valid(Cells(adj, ops, "nb101"))[0] == expected, name


def test_pruned_dead_end_counts_edges_after_pruning():
    space = NB101Space()
    adj = np.zeros((7, 7), np.uint8)
    adj[0, [1, 2, 3, 4, 6]] = 1
    adj[[1, 2, 3, 4], 6] = 1  # 9 live edges
    adj[0, 5] = 1  # dead end: node 5 never reaches the output
    ops = [INPUT, 1, 2, 3, 1, 2, OUTPUT]
    assert adj.sum() == 10
    assert space.is_valid(Cells(adj, ops, "nb101"))[0]
    pruned, _ = nb101.prune(Cells(adj, ops))
    assert pruned.num_edges()[0] == 9 and pruned.ops[0].tolist() == [0, 1, 2, 3, 1, 4, PAD]


def test_native_round_trip_and_errors():
    space = NB101Space()
    spec = {
        "matrix": [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
        "ops": ["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
    }
    cells = space.from_native([spec])
    assert cells.ops[0].tolist() == [INPUT, CONV3X3, MAXPOOL, OUTPUT, PAD, PAD, PAD]
    assert space.to_native(cells) == [spec]
    bad = [
        ({"matrix": [[0, 1], [1, 0]], "ops": ["input", "output"]}, "upper-triangular"),
        ({"matrix": [[0, 2], [0, 0]], "ops": ["input", "output"]}, "0 or 1"),
        ({"matrix": [[0, 1], [0, 0]], "ops": ["input", "conv5x5"]}, "unknown op 'conv5x5'"),
        ({"matrix": [[0, 1], [0, 0]], "ops": ["input"]}, "expected N x N with N ops"),
        ({"ops": ["input"]}, "expected"),
    ]
    for item, message in bad:
        with pytest.raises(ValueError, match=message) as err:
            space.from_native([item])
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="cell 0 is not a valid cell"):
        space.to_native(Cells(np.zeros((7, 7), np.uint8), [0, 1, 1, 1, 1, 1, 4]))


@pytest.mark.slow
def test_truncated_cache_is_detected_and_rebuilt(nb101_space, tmp_path):
    path = tmp_path / "nb101_cells.npz"
    path.write_bytes(nb101_space.cache_path.read_bytes()[:5000])
    with pytest.raises(io.CacheError):
        io.load_arrays(path)
    space = NB101Space(data_dir=tmp_path)
    messages = []
    cells = space.build(log=messages.append)
    assert len(cells) == 423_624 and "rebuilding cache" in messages[0]
    assert (space.hashes() == nb101_space.hashes()).all()
    io.load_arrays(path)  # a good cache again
