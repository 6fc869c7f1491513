import csv
from pathlib import Path

import numpy as np
import pytest

from arch2vec.spaces.cells import Cells
from arch2vec.spaces.nb201 import (
    ADJACENCY,
    OPS,
    NB201Space,
    arch_str_of,
    format_arch_str,
    index_of,
    parse_arch_str,
)

RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
RESNET_OPS = ("nor_conv_3x3", "none", "nor_conv_3x3", "skip_connect", "none", "skip_connect")
MERGED_CSV = Path(__file__).resolve().parents[1].parent / "shared/data/nb201/nb201_merged.csv"


@pytest.fixture(scope="module")
def space():
    return NB201Space()


@pytest.fixture(scope="module")
def pool(space):
    return space.all()


@pytest.fixture(scope="module")
def merged():
    if not MERGED_CSV.exists():
        pytest.skip(f"NB-201 merged table not found at {MERGED_CSV}")
    with MERGED_CSV.open(newline="") as f:
        return list(csv.DictReader(f))


def test_adjacency_is_the_paper_dag():
    edges = {(int(i), int(j)) for i, j in zip(*np.nonzero(ADJACENCY), strict=True)}
    assert edges == {(0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7)}


def test_pool_size_valid_distinct(space, pool):
    assert len(pool) == 15_625
    assert pool.space == "nb201"
    assert pool.adjacency.shape == (15_625, 8, 8)
    assert space.is_valid(pool).all()
    assert len(np.unique(pool.ops, axis=0)) == 15_625
    assert (pool.adjacency == ADJACENCY).all()


def test_canonical_index_round_trip(space, pool):
    idx = np.arange(15_625)
    strs = arch_str_of(idx)
    assert len(set(strs)) == 15_625
    np.testing.assert_array_equal(index_of(strs), idx)
    assert space.to_native(pool) == strs
    assert space.from_native(strs).equals(pool).all()
    # index 0 is all-none; the last is all avg_pool_3x3; base 5, first edge most significant
    assert parse_arch_str(strs[0]) == ("none",) * 6
    assert parse_arch_str(strs[-1]) == ("avg_pool_3x3",) * 6
    assert parse_arch_str(strs[5**5]) == ("skip_connect",) + ("none",) * 5


def test_resnet_cell(space):
    assert parse_arch_str(RESNET) == RESNET_OPS
    assert format_arch_str(RESNET_OPS) == RESNET
    i = int(index_of([RESNET])[0])
    assert i == int("303101", 5)
    assert arch_str_of(i) == [RESNET]
    cell = space.from_native([RESNET])
    names = [OPS[k] for k in cell.ops[0]]
    assert names == ["input", "conv3x3", "none", "conv3x3", "skip", "none", "skip", "output"]
    assert space.to_native(cell) == [RESNET]


def _resnet_cell(space):
    c = space.from_native([RESNET])
    return c.adjacency.copy(), c.ops.copy()


def test_is_valid_rejects(space):
    adj, ops = _resnet_cell(space)
    wrong_edge = adj.copy()
    wrong_edge[0, 0, 3] = 1
    missing_edge = adj.copy()
    missing_edge[0, 2, 6] = 0
    out_mid = ops.copy()
    out_mid[0, 3] = OPS.index("output")
    in_mid = ops.copy()
    in_mid[0, 2] = OPS.index("input")
    no_input = ops.copy()
    no_input[0, 0] = OPS.index("conv3x3")
    batch = Cells(
        np.concatenate([adj, wrong_edge, missing_edge, adj, adj, adj]),
        np.concatenate([ops, ops, ops, out_mid, in_mid, no_input]),
    )
    np.testing.assert_array_equal(space.is_valid(batch), [True] + [False] * 5)
    seven = Cells(adj[:, :7, :7], ops[:, :7])
    np.testing.assert_array_equal(space.is_valid(seven), [False])


def test_to_native_rejects_invalid(space):
    adj, ops = _resnet_cell(space)
    bad = ops.copy()
    bad[0, 4] = OPS.index("output")
    cells = Cells(np.concatenate([adj, adj]), np.concatenate([ops, bad]))
    with pytest.raises(ValueError, match="cell 1 ") as err:
        space.to_native(cells)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("s", "problem"),
    [
        ("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|", "3 '\\+'-separated groups, got 2"),
        (RESNET + "+|none~0|", "3 '\\+'-separated groups, got 4"),
        ("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~2|+" + RESNET.split("+")[2], "group 2 must list"),
        ("|nor_conv_3x3~0|+|none~0|+" + RESNET.split("+")[2], "group 2 must list"),
        ("|nor_conv_3x3~1|+" + "+".join(RESNET.split("+")[1:]), "group 1 must list"),
        (RESNET.replace("nor_conv_3x3~1", "conv3x3~1"), "unknown op 'conv3x3'"),
        (RESNET.replace("skip_connect~2|", "skip_connect~2"), "group 3 must start and end"),
        (RESNET[1:], "group 1 must start and end"),
        (RESNET.replace("none~1", "none1"), "group 3 must list"),
        ("", "got 1"),
        (None, "expected a str"),
    ],
)
def test_malformed_arch_strings(s, problem):
    for call in (parse_arch_str, lambda x: index_of([x])):
        with pytest.raises(ValueError, match=problem) as err:
            call(s)
        msg = str(err.value)
        assert "\n" not in msg
        assert msg.startswith(f"arch string {s!r}")


def test_format_rejects_bad_ops():
    with pytest.raises(ValueError, match="6 edge ops"):
        format_arch_str(RESNET_OPS[:5])
    with pytest.raises(ValueError, match="unknown op 'conv'"):
        format_arch_str(("conv",) + RESNET_OPS[1:])
    with pytest.raises(ValueError, match="outside"):
        arch_str_of([15_625])


def test_merged_table_maps_onto_canonical_order(merged):
    assert len(merged) == 15_625
    strs = [r["arch_str"] for r in merged]
    for s in strs:
        parse_arch_str(s)
    idx = index_of(strs)
    np.testing.assert_array_equal(np.sort(idx), np.arange(15_625))
    # op_key is the six base-5 digits of the canonical index
    np.testing.assert_array_equal([int(r["op_key"], 5) for r in merged], idx)
    official = np.array([int(r["nb201_index"]) for r in merged])
    np.testing.assert_array_equal(np.sort(official), np.arange(15_625))
    official_to_canonical = np.empty(15_625, dtype=np.int64)
    official_to_canonical[official] = idx
    np.testing.assert_array_equal(np.sort(official_to_canonical), np.arange(15_625))
    assert arch_str_of(official_to_canonical[11472]) == [RESNET]
    assert not np.array_equal(official_to_canonical, np.arange(15_625))  # a genuine shuffle


def test_hashes_distinct(space, pool):
    h = space.hash(pool)
    assert h.shape == (15_625,)
    assert len(np.unique(h)) == 15_625
    assert all(len(x) == 32 for x in h[:10])
    adj, ops = _resnet_cell(space)
    bad = ops.copy()
    bad[0, 0] = OPS.index("none")
    out = space.hash(Cells(np.concatenate([adj, adj]), np.concatenate([ops, bad])))
    assert out[0] == h[int(index_of([RESNET])[0])]
    assert out[1] == ""


def test_hashes_cached_beside_the_space_cache(tmp_path, pool, monkeypatch):
    first = NB201Space(data_dir=tmp_path)
    table = first.hashes()
    np.testing.assert_array_equal(table, first.hash(pool))
    assert first.hashes() is table  # once per object
    assert (tmp_path / "nb201_hashes.npz").is_file()

    def no_hashing(self, cells):
        raise AssertionError("the cached table should be read, not recomputed")

    monkeypatch.setattr(NB201Space, "hash", no_hashing)
    np.testing.assert_array_equal(NB201Space(data_dir=tmp_path).hashes(), table)
    monkeypatch.undo()
    # a truncated cache is rebuilt, not trusted
    data = (tmp_path / "nb201_hashes.npz").read_bytes()
    (tmp_path / "nb201_hashes.npz").write_bytes(data[: len(data) // 2])
    np.testing.assert_array_equal(NB201Space(data_dir=tmp_path).hashes(), table)
    assert (tmp_path / "nb201_hashes.npz").stat().st_size == len(data)
