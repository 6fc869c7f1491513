import numpy as np
import pytest

from arch2vec.spaces.cells import Cells
from arch2vec.spaces.darts import (
    GENOTYPE_OPS,
    NODE_TYPES,
    PAPER_RULES,
    SPACE_SIZE,
    VALIDITY_RULES,
    DartsSpace,
    canonical_genotypes,
    cells_to_genotypes,
    format_genotype,
    genotypes_to_cells,
    hash_genotypes,
    paper_validity_checks,
    parse_genotype,
    sample_genotypes,
    validity_checks,
)

# DARTS (second order) normal cell, Liu et al. 2019, genotypes.py DARTS_V2.normal.
DARTS_V2 = (
    "[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)]"
)
SMALL = (
    "[('sep_conv_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('sep_conv_5x5', 0), "
    "('dil_conv_3x3', 3), ('avg_pool_3x3', 1), ('dil_conv_5x5', 4), ('sep_conv_3x3', 2)]"
)


@pytest.fixture(scope="module")
def small_pool(tmp_path_factory):
    space = DartsSpace(data_dir=tmp_path_factory.mktemp("darts"), samples=1000, seed=3)
    return space, space.all()


def test_vocabulary():
    assert len(NODE_TYPES) == 11 and NODE_TYPES.index("zero") == 2
    assert NODE_TYPES[3:10] == tuple(
        "identity" if op == "skip_connect" else op for op in GENOTYPE_OPS
    )
    assert SPACE_SIZE == 20 * 7**8


def test_darts_v2_round_trip():
    g = parse_genotype(DARTS_V2)
    cells = genotypes_to_cells(g)
    assert validity_checks(cells).all()
    back = cells_to_genotypes(cells)
    np.testing.assert_array_equal(back[0], g)
    assert format_genotype(back[0]) == DARTS_V2
    space = DartsSpace()
    assert space.to_native(space.from_native([DARTS_V2])) == [DARTS_V2]
    canon = format_genotype(canonical_genotypes(g)[0])
    assert format_genotype(canonical_genotypes(back)[0]) == canon
    # node 2's pairs ('sep_conv_3x3', 1), ('skip_connect', 0) are sorted by input
    assert canon.split("), (")[4:6] == ["'skip_connect', 0", "'sep_conv_3x3', 1"]


def test_small_genotype_dag_by_hand():
    cells = genotypes_to_cells(parse_genotype(SMALL))
    edges = {(int(i), int(j)) for i, j in zip(*np.nonzero(cells.adjacency[0]), strict=True)}
    expected = {(0, 2), (1, 3), (2, 4), (3, 4), (0, 5), (4, 6), (5, 6), (1, 7)}
    expected |= {(6, 8), (7, 8), (2, 9), (3, 9)} | {(k, 10) for k in range(2, 10)}
    assert edges == expected
    names = ["c_{k-2}", "c_{k-1}", "sep_conv_3x3", "max_pool_3x3", "identity", "sep_conv_5x5"]
    names += ["dil_conv_3x3", "avg_pool_3x3", "dil_conv_5x5", "sep_conv_3x3", "c_{k}"]
    assert [NODE_TYPES[t] for t in cells.ops[0]] == names


def test_hash_ignores_pair_order_only():
    g = parse_genotype(SMALL)
    swapped = g[:, ::-1]
    assert hash_genotypes(g)[0] == hash_genotypes(swapped)[0]
    space = DartsSpace()
    h = space.hash(Cells.concat([genotypes_to_cells(g), genotypes_to_cells(swapped)]))
    assert h[0] == h[1] and len(h[0]) == 32
    # Re-pairing op nodes of unused intermediate nodes: isomorphic DAGs, different cells.
    a = "[('sep_conv_3x3', 0), ('max_pool_3x3', 1), ('avg_pool_3x3', 0), ('skip_connect', 1), "
    b = "[('sep_conv_3x3', 0), ('skip_connect', 1), ('avg_pool_3x3', 0), ('max_pool_3x3', 1), "
    rest = "('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1)]"
    cells = space.from_native([a + rest, b + rest])
    perm = np.arange(11)
    perm[[3, 5]] = [5, 3]
    iso = cells.adjacency[0][np.ix_(perm, perm)]
    np.testing.assert_array_equal(iso, cells.adjacency[1])
    np.testing.assert_array_equal(cells.ops[0][perm], cells.ops[1])
    h = space.hash(cells)
    assert h[0] != h[1]


def test_sampler_deterministic_unique_valid():
    a = sample_genotypes(2000, seed=5)
    np.testing.assert_array_equal(a, sample_genotypes(2000, seed=5))
    assert not np.array_equal(a, sample_genotypes(2000, seed=6))
    np.testing.assert_array_equal(a[:500], sample_genotypes(500, seed=5))
    assert a.shape == (2000, 4, 2, 2) and a.dtype == np.int8
    np.testing.assert_array_equal(a, canonical_genotypes(a))
    assert len(np.unique(a.reshape(len(a), -1), axis=0)) == 2000
    inp, op = a[..., 0], a[..., 1]
    assert (inp >= 0).all() and (inp <= np.arange(4)[None, :, None] + 1).all()
    assert (inp[:, :, 0] < inp[:, :, 1]).all()
    assert set(np.unique(op)) == set(range(7))
    assert set(np.unique(inp[:, 3])) == set(range(5))
    assert validity_checks(genotypes_to_cells(a)).all()


def _violate(rule: str) -> Cells:
    cells = genotypes_to_cells(parse_genotype(SMALL))
    adj, ops = cells.adjacency.copy(), cells.ops.copy()
    if rule == "roles":
        ops[0, 10] = 9
    elif rule == "op_types":
        ops[0, 6] = NODE_TYPES.index("zero")
    elif rule == "inputs_unwired":
        adj[0, 0, 1] = 1
    elif rule == "ops_feed_output":
        adj[0, 7, 10] = 0
    elif rule == "one_input":
        adj[0, 0, 7] = 1  # op node 7 now reads both c_{k-2} and c_{k-1}
    elif rule == "distinct_inputs":
        adj[0, 1, 2], adj[0, 0, 2] = 1, 0  # node 0's pairs both read c_{k-1}
    return Cells(adj, ops, "darts")


@pytest.mark.parametrize("rule", VALIDITY_RULES)
def test_is_valid_rejects_each_rule(rule):
    cells = _violate(rule)
    checks = validity_checks(cells)[0]
    assert not checks[VALIDITY_RULES.index(rule)]
    assert checks.sum() == len(VALIDITY_RULES) - 1
    space = DartsSpace()
    # the space's validity is the paper's looser check; only "roles" breaks it too
    paper_ok = rule != "roles"
    assert space.is_valid(cells)[0] == paper_ok
    assert (space.hash(cells)[0] == "") == (not paper_ok)
    with pytest.raises(ValueError, match=f"cell 0 .*fails {rule}"):
        space.to_native(cells)


def _violate_paper(rule: str) -> Cells:
    cells = genotypes_to_cells(parse_genotype(SMALL))
    adj, ops = cells.adjacency.copy(), cells.ops.copy()
    if rule == "node_types":
        ops[0, 1] = NODE_TYPES.index("c_{k-2}")
    elif rule == "op_types":
        ops[0, 5] = NODE_TYPES.index("c_{k}")
    else:
        j = int(rule[4])
        adj[0, :, 2 + 2 * j] = 0  # op node 2 + 2j reads nothing
    return Cells(adj, ops, "darts")


@pytest.mark.parametrize("rule", PAPER_RULES)
def test_paper_validity_rejects_each_check(rule):
    cells = _violate_paper(rule)
    checks = paper_validity_checks(cells)[0]
    assert not checks[PAPER_RULES.index(rule)] and checks.sum() == len(PAPER_RULES) - 1
    assert not DartsSpace().is_valid(cells)[0] and DartsSpace().hash(cells)[0] == ""


def test_paper_valid_non_genotype_cells_get_a_graph_hash():
    cells = _violate("one_input")
    space = DartsSpace()
    h = space.hash(cells)[0]
    assert len(h) == 32 and h != space.hash(genotypes_to_cells(parse_genotype(SMALL)))[0]


def test_is_valid_wrong_node_count():
    cells = Cells(np.zeros((2, 7, 7), np.uint8), np.zeros((2, 7), np.int8))
    assert not DartsSpace().is_valid(cells).any()


@pytest.mark.parametrize(
    "text, problem",
    [
        ("[('sep_conv_3x3', 0)]", "expected 8"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "out of range"),
        (DARTS_V2.replace("('sep_conv_3x3', 1)", "('sep_conv_3x3', 2)", 1), "out of range"),
        (DARTS_V2.replace("dil_conv_3x3", "conv_7x7"), "unknown op"),
        (DARTS_V2.replace("dil_conv_3x3", "none"), "unknown op"),
        ("[('sep_conv_3x3', 0), (", "not a Python literal"),
        ("__import__('os').system('true')", "not a Python literal"),
        ("{'a': 1}", "expected a list"),
        (DARTS_V2.replace("('sep_conv_3x3', 1)", "('sep_conv_3x3', 0)", 1), "twice"),
        (DARTS_V2.replace("2)]", "'2')]"), "not an integer"),
        (DARTS_V2.replace("('skip_connect', 0), ('dil", "('skip_connect', 0, 1), ('dil"), "pair 6"),
    ],
)
def test_malformed_genotype_text(text, problem):
    with pytest.raises(ValueError, match=problem) as err:
        parse_genotype(text)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("invalid DARTS genotype")
    with pytest.raises(ValueError):
        DartsSpace().from_native([DARTS_V2, text])


def test_pool(small_pool):
    space, pool = small_pool
    assert len(pool) == 1000 and pool.space == "darts" and pool.adjacency.shape == (1000, 11, 11)
    assert space.is_valid(pool).all()
    assert len(set(space.hash(pool))) == 1000
    np.testing.assert_array_equal(space.genotypes(), sample_genotypes(1000, seed=3))
    np.testing.assert_array_equal(cells_to_genotypes(pool), space.genotypes())
    back = space.from_native(space.to_native(pool[:50]))
    assert back.equals(pool[:50]).all()
    info = space.info()
    assert info["space"] == "darts" and info["num_cells"] == 1000
    assert (info["samples"], info["seed"], info["num_nodes"]) == (1000, 3, 11)


def test_cache_rebuilt_when_truncated(tmp_path):
    space = DartsSpace(data_dir=tmp_path, samples=1000, seed=0)
    first = space.all()
    path = tmp_path / "darts_1000_0.npz"
    assert space.cache_path == path and path.is_file()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    messages = []
    again = DartsSpace(data_dir=tmp_path, samples=1000, seed=0)
    rebuilt = again.build(log=messages.append)
    assert len(messages) == 1 and "rebuilding" in messages[0]
    assert rebuilt.equals(first).all()
    assert DartsSpace(data_dir=tmp_path, samples=1000, seed=0).all().equals(first).all()
