import json

import numpy as np
import pytest

from arch2vec.analysis import draw
from arch2vec.analysis import smoothness as sm
from arch2vec.spaces.cells import Cells, edit_distance
from arch2vec.spaces.nb201 import (
    EDGE_OPS,
    NB201Space,
    arch_str_of,
    format_arch_str,
    index_of,
    parse_arch_str,
)

PNG = b"\x89PNG\r\n\x1a\n"
ALL_NONE = format_arch_str(["none"] * 6)


@pytest.fixture(scope="module")
def space():
    return NB201Space()


@pytest.fixture(scope="module")
def pool(space):
    return space.all()


@pytest.fixture(scope="module")
def walk(space):
    return sm.random_walk(space, length=300, seed=3)


_HASHES = {}


def _hash_neighbours(space, pool, index):
    """The slow definition: hash every valid single edit, find it in the pool, keep ED 1."""
    if space not in _HASHES:
        _HASHES[space] = {h: i for i, h in enumerate(space.hashes().tolist())}
    lookup = _HASHES[space]
    edits = sm.single_edits(pool[index], len(space.ops))
    edits = edits[np.flatnonzero(space.is_valid(edits))]
    found = np.unique([lookup.get(h, -1) for h in space.hash(edits).tolist()])
    found = found[(found >= 0) & (found != index)]
    return found[edit_distance(pool[index], pool[found]) == 1]


def test_neighbours_of_the_all_none_cell(space, pool):
    start = int(index_of(ALL_NONE)[0])
    got = sm.neighbours(space, start)
    expected = []
    for position in range(6):
        for op in EDGE_OPS[1:]:
            ops = ["none"] * 6
            ops[position] = op
            expected.append(int(index_of(format_arch_str(ops))[0]))
    assert len(got) == 24
    assert sorted(expected) == got.tolist()
    assert (edit_distance(pool[start], pool[got]) == 1).all()
    # each differs from the start in exactly one edge op of the arch string
    for s in arch_str_of(got):
        assert sum(op != "none" for op in parse_arch_str(s)) == 1


def test_neighbours_match_hash_lookup(space, pool):
    rng = np.random.default_rng(0)
    for index in rng.choice(len(pool), 20, replace=False).tolist():
        got = sm.neighbours(space, index)
        assert len(got) == 24  # every NB-201 cell: 6 edge ops x 4 other ops
        assert np.array_equal(got, _hash_neighbours(space, pool, index))
        assert index in sm.neighbours(space, int(got[0]))  # symmetric


def test_single_edits_are_one_edit_away(pool):
    edits = sm.single_edits(pool[123], 7)
    assert len(edits) == 28 + 8 * 6  # 8-node upper triangle + 6 other ops per node
    assert (edit_distance(pool[123], edits) == 1).all()
    with pytest.raises(ValueError, match="one cell"):
        sm.single_edits(pool[:2], 7)


def test_random_walk_steps_are_single_edits(space, pool, walk):
    assert walk.shape == (300,)
    assert (sm.walk_edit_distances(space, walk) == 1).all()
    assert space.is_valid(pool[walk]).all()
    # plenty of unvisited neighbours in NB-201: the walk never needs to revisit
    assert len(np.unique(walk)) == 300


def test_random_walk_is_deterministic(space, walk):
    assert np.array_equal(sm.random_walk(space, length=300, seed=3), walk)
    assert not np.array_equal(sm.random_walk(space, length=300, seed=4), walk)
    assert sm.random_walk(space, length=5, start=7)[0] == 7


def test_random_walk_revisits_only_when_stuck():
    """A tiny space of three cells on a path, 0 - 1 - 2 (ops (a, a), (a, b), (b, b))."""

    class Path3(NB201Space):
        name = "path3"
        ops = ("a", "b")

        def all(self):
            return Cells(np.zeros((3, 2, 2), np.uint8), np.array([[0, 0], [0, 1], [1, 1]]))

    space = Path3()
    assert sm.neighbours(space, 1).tolist() == [0, 2]
    assert sm.random_walk(space, length=4, start=0)[:4].tolist() == [0, 1, 2, 1]
    for seed in range(6):
        walk = sm.random_walk(space, length=7, seed=seed, start=1)
        assert walk[2] == 1  # stuck at an end: back to the middle
        assert {walk[1], walk[3]} == {0, 2}  # then the unvisited end, never the same one
        assert (np.abs(np.diff(walk)) == 1).all()


def test_random_walk_rejects_bad_input(space):
    with pytest.raises(ValueError, match="at least 2"):
        sm.random_walk(space, length=1)
    with pytest.raises(ValueError, match="outside"):
        sm.random_walk(space, length=3, start=10**6)


def test_walk_pairs_and_groups(space, pool, walk):
    first, second, edit = sm.walk_pairs(space, walk)
    assert len(edit) == 300 * 299 // 2
    assert (first != second).all()
    sample = np.random.default_rng(1).choice(len(edit), 500, replace=False)
    assert np.array_equal(edit[sample], edit_distance(pool[first[sample]], pool[second[sample]]))
    # NB-201: the adjacency is fixed, so the edit distance is the number of differing edge ops
    assert set(edit.tolist()) <= set(range(1, 7))
    assert {1, 2, 3, 4} <= set(edit.tolist())

    emb = np.random.default_rng(2).normal(size=(len(pool), 4))
    groups = sm.distance_by_edit(space, emb, walk)
    assert list(groups) == sorted(groups)
    assert sum(len(v) for v in groups.values()) == len(edit)
    for k, values in groups.items():
        rows = np.flatnonzero(edit == k)
        expect = np.linalg.norm(emb[first[rows]] - emb[second[rows]], axis=1)
        assert np.allclose(np.sort(values), np.sort(expect))


def test_walk_pairs_cap_and_revisits(space, walk):
    capped = sm.walk_pairs(space, walk, max_pairs=1000, seed=5)
    assert len(capped[2]) == 1000
    again = sm.walk_pairs(space, walk, 1000, 5)
    assert all(np.array_equal(a, b) for a, b in zip(capped, again, strict=True))
    pairs = set(zip(capped[0].tolist(), capped[1].tolist(), strict=True))
    assert len(pairs) == 1000
    order = {c: k for k, c in enumerate(walk.tolist())}
    assert all(order[a] < order[b] for a, b in pairs)
    # a revisited cell counts once
    doubled = np.concatenate([walk[:10], walk[:10]])
    assert len(sm.walk_pairs(space, doubled)[2]) == 45


def test_pair_of_flat_inverts_triu():
    i, j = np.triu_indices(7, k=1)
    a, b = sm._pair_of_flat(np.arange(len(i)), 7)
    assert np.array_equal(a, i) and np.array_equal(b, j)


def test_distance_by_edit_rejects_bad_input(space, walk):
    with pytest.raises(ValueError, match="one row per cell"):
        sm.distance_by_edit(space, np.zeros((10, 3)), walk)
    with pytest.raises(ValueError, match="fewer than 2"):
        sm.distance_by_edit(space, np.zeros((15625, 3)), [5, 5])
    with pytest.raises(ValueError, match="outside"):
        sm.distance_by_edit(space, np.zeros((15625, 3)), [5, 15625])


def _brute_force_nn_walk(emb, start, steps, candidates=None):
    allowed = set(range(len(emb)) if candidates is None else candidates) - {start}
    walk = [start]
    for _ in range(steps):
        cur = emb[walk[-1]]
        best, best_d = None, np.inf
        for c in sorted(allowed):
            d = float(np.sum((emb[c].astype(np.float64) - cur) ** 2))
            if d < best_d:
                best, best_d = c, d
        walk.append(best)
        allowed.remove(best)
    return walk


def test_nearest_neighbour_walk_matches_brute_force():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(300, 5)).astype(np.float32)
    for start in (0, 17, 299):
        got = sm.nearest_neighbour_walk(emb, start, steps=20)
        assert got.tolist() == _brute_force_nn_walk(emb, start, 20)
        assert len(set(got.tolist())) == 21
    cand = rng.choice(300, 40, replace=False)
    got = sm.nearest_neighbour_walk(emb, 5, steps=10, candidates=cand)
    assert got.tolist() == _brute_force_nn_walk(emb, 5, 10, cand.tolist())
    assert set(got[1:].tolist()) <= set(cand.tolist())


def test_nearest_neighbour_walk_on_a_line():
    emb = np.array([[0.0], [10.0], [1.0], [3.0], [2.5], [7.0]])
    assert sm.nearest_neighbour_walk(emb, 0, steps=5).tolist() == [0, 2, 4, 3, 5, 1]
    with pytest.raises(ValueError, match="only 5 candidates"):
        sm.nearest_neighbour_walk(emb, 0, steps=6)
    with pytest.raises(ValueError, match="at least 1"):
        sm.nearest_neighbour_walk(emb, 0, steps=0)
    with pytest.raises(ValueError, match="outside"):
        sm.nearest_neighbour_walk(emb, 6)


def test_walk_edit_distances(space):
    walk = index_of(
        [
            ALL_NONE,
            format_arch_str(["skip_connect"] + ["none"] * 5),
            format_arch_str(EDGE_OPS[:1] * 6),
        ]
        + [format_arch_str(["nor_conv_3x3"] * 6)]
    )
    assert sm.walk_edit_distances(space, walk).tolist() == [1, 1, 6]
    with pytest.raises(ValueError, match="at least 2"):
        sm.walk_edit_distances(space, walk[:1])


def test_pictures(space, pool, tmp_path):
    out = draw.draw_cells(space, [0, 1, 7000], tmp_path / "cells.png", titles=["a", "b", "c"])
    assert out.read_bytes().startswith(PNG)
    out = draw.draw_cells(space, pool[:5], tmp_path / "grid.png", ncols=2)
    assert out.read_bytes().startswith(PNG)
    with pytest.raises(ValueError, match="titles"):
        draw.draw_cells(space, [0, 1], tmp_path / "x.png", titles=["a"])
    groups = {"a": {1: np.array([1.0, 2.0]), 3: np.array([4.0, 5.0, 6.0])}, "b": {2: np.ones(3)}}
    out = sm.plot_distance_boxes(groups, tmp_path / "boxes.png")
    assert out.read_bytes().startswith(PNG)


def test_node_positions_are_topological(space, pool):
    from arch2vec.spaces.nb201 import ADJACENCY

    pos = draw.node_positions(ADJACENCY, pool.ops[0])
    assert len(pos) == 8
    src, dst = np.nonzero(ADJACENCY)
    assert all(pos[i][0] < pos[j][0] for i, j in zip(src, dst, strict=True))
    assert draw.short_op_name("conv3x3-bn-relu") == "conv3x3"
    assert draw.short_op_name("maxpool3x3") == "max-pool"


def test_run_smoothness(space, pool, tmp_path):
    onehot = space.onehot(pool).reshape(len(pool), -1)  # L2^2 = 2 x differing ops here
    noise = np.random.default_rng(0).normal(size=(len(pool), 8))
    report = sm.run_smoothness(
        {"onehot": onehot, "random": noise},
        space,
        tmp_path,
        walk_length=200,
        nn_starts=3,
        nn_steps=6,
        seed=1,
    )
    assert (tmp_path / "distance_by_edit.png").read_bytes().startswith(PNG)
    assert (tmp_path / "nn_walk_onehot.png").read_bytes().startswith(PNG)
    assert (tmp_path / "nn_walk_random.png").read_bytes().startswith(PNG)
    saved = json.loads((tmp_path / "smoothness.json").read_text())
    assert saved == json.loads(json.dumps(report))
    assert saved["config"]["walk_length"] == 200 and "version" in saved
    hot, rnd = saved["embeddings"]["onehot"], saved["embeddings"]["random"]
    # the flat one-hot encoding is perfectly smooth: nearest unvisited cell is one edit away
    assert hot["nn_walk"]["mean_edit_distance"] == 1.0
    assert hot["nn_walk"]["edit_distances"] == [[1] * 6] * 3
    for k, s in hot["distance_by_edit"].items():
        assert s["q1"] == s["median"] == s["q3"] == pytest.approx(np.sqrt(2 * int(k)))
    assert hot["spearman_l2_vs_edit"] == pytest.approx(1.0)
    # random embeddings are not: steps go far and L2 ignores the edit distance
    assert rnd["nn_walk"]["mean_edit_distance"] > 3
    assert abs(rnd["spearman_l2_vs_edit"]) < 0.1
    walks = np.array(rnd["nn_walk"]["walks"])
    assert walks.shape == (3, 7) and walks[:, 0].tolist() == saved["nn_starts"]
    assert (np.array(hot["nn_walk"]["walks"])[:, 0] == walks[:, 0]).all()
    again = sm.run_smoothness(
        {"onehot": onehot, "random": noise}, space, tmp_path / "again", 200, 3, 6, seed=1
    )
    again.pop("timings"), report.pop("timings")
    assert again == report


def test_run_smoothness_rejects_bad_input(space, tmp_path):
    with pytest.raises(ValueError, match="one row per cell"):
        sm.run_smoothness({"x": np.zeros((5, 2))}, space, tmp_path)
    with pytest.raises(ValueError, match="no embeddings"):
        sm.run_smoothness({}, space, tmp_path)


def test_nb101_neighbours_and_walk(nb101_space):
    pool = nb101_space.all()
    assert len(sm.neighbours(nb101_space, 0)) == 0  # input -> output: nothing one edit away
    rng = np.random.default_rng(0)
    for index in rng.choice(len(pool), 15, replace=False).tolist():
        got = sm.neighbours(nb101_space, index)
        assert np.array_equal(got, _hash_neighbours(nb101_space, pool, index))
    walk = sm.random_walk(nb101_space, length=200, seed=0)
    assert (sm.walk_edit_distances(nb101_space, walk) == 1).all()
    assert nb101_space.is_valid(pool[walk]).all()


def test_distance_plot_title_is_not_cut():
    from arch2vec.analysis.plots import pyplot
    from arch2vec.analysis.smoothness import distance_boxes_figure

    groups = {"arch2vec": {1: np.array([1.0, 2.0]), 2: np.array([2.0, 3.0, 4.0])}}
    title = "nb201: 44,850 pairs of cells of a 300-cell random walk (arch2vec, random walk)"
    fig = distance_boxes_figure(groups, title)
    try:
        fig.canvas.draw()
        box = fig._suptitle.get_window_extent()
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
        assert fig._suptitle.get_text().replace("\n", " ") == title
    finally:
        pyplot().close(fig)
