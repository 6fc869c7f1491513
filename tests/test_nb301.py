"""NAS-Bench-301 surrogate (YAHPO Gym v2): genotype encoding, predictions, evaluator, benchmark."""

import json

import numpy as np
import pytest
from conftest import shared_file

from arch2vec import benchmarks, spaces
from arch2vec.spaces.cells import Cells
from arch2vec.spaces.darts import (
    DartsSpace,
    genotypes_to_cells,
    parse_genotype,
    sample_genotypes,
)

pytest.importorskip("onnxruntime", reason="the NB-301 surrogate needs arch2vec[nb301]")

from arch2vec.benchmarks import nb301  # noqa: E402
from arch2vec.evaluators.nb301 import NB301Evaluator  # noqa: E402

# DARTS (second order) normal cell, Liu et al. 2019, genotypes.py DARTS_V2.normal.
DARTS_V2 = (
    "[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)]"
)
DARTS_V2_REDUCE = (
    "[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), "
    "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)]"
)


@pytest.fixture(scope="module")
def surrogate_dir():
    return shared_file("nb301/yahpo_data_v2/nb301/model_v2.onnx").parent


@pytest.fixture(scope="module")
def surrogate(surrogate_dir):
    return nb301.NB301Surrogate(surrogate_dir)


@pytest.fixture(scope="module")
def config_space(surrogate_dir):
    data = json.loads((surrogate_dir / nb301.CONFIG_SPACE_FILE).read_text())
    return {hp["name"]: hp for hp in data["hyperparameters"]}, {
        c["child"]: c for c in data["conditions"]
    }


@pytest.fixture(scope="module")
def encoding(surrogate_dir):
    return json.loads((surrogate_dir / nb301.ENCODING_FILE).read_text())


def decode(x_cat, encoding):
    """x_cat row -> {column: choice} with the inactive ('#na#') columns left out."""
    out = {}
    for col, code in zip(nb301.COLUMNS, x_cat, strict=True):
        names = {v: k for k, v in encoding[col].items()}
        if names[int(code)] != nb301.NA:
            out[col] = names[int(code)]
    return out


def test_codes_valid_per_config_space(surrogate, config_space, encoding):
    hps, conditions = config_space
    g = sample_genotypes(500, seed=11)
    x = surrogate.encode(g)
    assert x.shape == (500, 34) and x.dtype == np.int32
    for row in x:
        choice = decode(row, encoding)
        # Every set choice is legal, and an edge is set exactly when its condition holds.
        for col in nb301.COLUMNS:
            cond = conditions.get(col)
            active = cond is None or choice.get(cond["parent"]) in cond["values"]
            assert (col in choice) == active, col
            if active:
                assert choice[col] in hps[col]["choices"]
        assert sum("_edge_" in c for c in choice) == 16  # 8 edges per cell, normal + reduce


def test_encoding_decodes_to_the_genotype(surrogate, encoding):
    g = parse_genotype(DARTS_V2)
    choice = decode(surrogate.encode(g)[0], encoding)
    p = nb301.PREFIX
    for t in ("normal", "reduce"):  # reduction cell = normal cell
        assert choice[f"{p}edge_{t}_0"] == "sep_conv_3x3"  # node 0 from c_{k-2}
        assert choice[f"{p}edge_{t}_1"] == "sep_conv_3x3"  # node 0 from c_{k-1}
        assert choice[f"{p}inputs_node_{t}_3"] == "0_1"
        assert choice[f"{p}edge_{t}_2"] == "sep_conv_3x3"
        assert choice[f"{p}edge_{t}_3"] == "sep_conv_3x3"
        assert choice[f"{p}inputs_node_{t}_4"] == "0_1"
        assert choice[f"{p}edge_{t}_6"] == "sep_conv_3x3"  # node 2 from c_{k-1}
        assert choice[f"{p}edge_{t}_5"] == "skip_connect"  # node 2 from c_{k-2}
        assert choice[f"{p}inputs_node_{t}_5"] == "0_2"
        assert choice[f"{p}edge_{t}_9"] == "skip_connect"  # node 3 from c_{k-2}
        assert choice[f"{p}edge_{t}_11"] == "dil_conv_3x3"  # node 3 from node 0
    # A separate reduction cell goes to the reduce columns only.
    both = decode(surrogate.encode(g, parse_genotype(DARTS_V2_REDUCE))[0], encoding)
    assert both[f"{p}edge_normal_0"] == "sep_conv_3x3"
    assert both[f"{p}edge_reduce_0"] == "max_pool_3x3"
    assert both[f"{p}inputs_node_reduce_4"] == "0_2"


def test_pair_order_does_not_matter(surrogate):
    g = sample_genotypes(300, seed=12)
    rng = np.random.default_rng(0)
    flipped = g.copy()
    swap = rng.random((300, 4)) < 0.5
    flipped[swap] = flipped[swap][:, ::-1]
    assert (flipped != g).any()
    np.testing.assert_array_equal(surrogate.encode(flipped), surrogate.encode(g))
    a, b = surrogate.predict(g[:50]), surrogate.predict(flipped[:50])
    for name in nb301.OUTPUTS:
        np.testing.assert_array_equal(a[name], b[name])


def test_darts_v2_prediction(surrogate):
    pred = surrogate.predict(parse_genotype(DARTS_V2))
    assert set(pred) == set(nb301.OUTPUTS)
    assert 0.90 < pred["val_accuracy"][0] < 0.96
    assert pred["runtime"][0] > 1000  # seconds for 98 epochs


def test_deterministic_and_batch_equals_single(surrogate):
    g = sample_genotypes(64, seed=13)
    first, second = surrogate.predict(g), surrogate.predict(g)
    small = nb301.NB301Surrogate(surrogate.directory, batch_size=7)
    chunked = small.predict(g)
    singles = [surrogate.predict(g[i]) for i in range(0, 64, 9)]
    for name in nb301.OUTPUTS:
        np.testing.assert_array_equal(first[name], second[name])
        np.testing.assert_allclose(chunked[name], first[name], rtol=1e-5)
        np.testing.assert_allclose(
            [s[name][0] for s in singles], first[name][::9], rtol=1e-5, atol=1e-6
        )


def test_epoch_trend(surrogate):
    """Median over 200 random cells rises with training (PROVENANCE: ~0.55 / 0.88 / 0.92)."""
    g = sample_genotypes(200, seed=0)
    med = {ep: float(np.median(surrogate.predict(g, ep)["val_accuracy"])) for ep in (1, 50, 98)}
    assert med[1] < med[50] < med[98]
    assert 0.50 < med[1] < 0.60 and 0.85 < med[50] < 0.90 and 0.91 < med[98] < 0.94
    # runtime is cumulative: the full run takes far longer than one epoch
    r1 = surrogate.predict(g, 1)["runtime"]
    r98 = surrogate.predict(g, 98)["runtime"]
    assert np.median(r98) > 10 * np.median(r1)
    # one epoch per cell
    per_cell = surrogate.predict(g[:3], np.array([1, 50, 98]))["val_accuracy"]
    assert per_cell[0] == pytest.approx(surrogate.predict(g[0], 1)["val_accuracy"][0], rel=1e-5)


def test_bad_inputs(surrogate):
    g = sample_genotypes(2, seed=1)
    for epoch in (0, 99, 2.5, np.nan):
        with pytest.raises(ValueError, match="epoch"):
            surrogate.predict(g, epoch)
    bad = g.copy()
    bad[0, 1, 1, 0] = bad[0, 1, 0, 0]  # node 1 reads one input twice
    with pytest.raises(ValueError, match="genotypes 0 is not a legal"):
        surrogate.predict(bad)
    with pytest.raises(ValueError, match="shape"):
        surrogate.predict(np.zeros((2, 3, 2, 2), np.int8))
    assert surrogate.predict(g[:0])["val_accuracy"].shape == (0,)


def test_bad_dir(tmp_path, surrogate_dir):
    with pytest.raises(ValueError, match=f"{tmp_path}.*lacks model_v2.onnx"):
        nb301.NB301Surrogate(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        nb301.NB301Surrogate(tmp_path / "missing")
    for name in nb301.SURROGATE_FILES:
        (tmp_path / name).write_bytes((surrogate_dir / name).read_bytes())
    (tmp_path / nb301.ENCODING_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="encoding_v2.json: unreadable JSON"):
        nb301.NB301Surrogate(tmp_path)
    (tmp_path / nb301.ENCODING_FILE).write_bytes((surrogate_dir / nb301.ENCODING_FILE).read_bytes())
    (tmp_path / nb301.MODEL_FILE).write_bytes(b"not an onnx model")
    with pytest.raises(ValueError, match="model_v2.onnx: not a loadable ONNX model") as e:
        nb301.NB301Surrogate(tmp_path)
    assert "\n" not in str(e.value)


def test_parent_folders_accepted(surrogate_dir):
    model = surrogate_dir / nb301.MODEL_FILE
    assert nb301.surrogate_files(model)[nb301.ENCODING_FILE] == surrogate_dir / nb301.ENCODING_FILE
    assert nb301.surrogate_files(surrogate_dir.parent.parent)[nb301.MODEL_FILE] == (
        surrogate_dir / nb301.MODEL_FILE
    )


def test_evaluator(surrogate):
    evaluator = NB301Evaluator(surrogate=surrogate)
    assert evaluator.name == "nb301" and evaluator.space == "darts"
    g = sample_genotypes(5, seed=14)
    cells = genotypes_to_cells(g)
    # append a DAG that is no genotype: op node 2 reads nothing
    adj, ops = cells.adjacency.copy(), cells.ops.copy()
    adj[0, :, 2] = 0
    cells = Cells(np.concatenate([cells.adjacency, adj[:1]]), np.concatenate([cells.ops, ops[:1]]))
    result = evaluator.evaluate(cells)
    pred = surrogate.predict(g)
    np.testing.assert_allclose(result.reward[:5], 100 * pred["val_accuracy"])
    np.testing.assert_allclose(result.cost[:5], pred["runtime"])
    assert result.ok.tolist() == [True] * 5 + [False]
    assert result.cost[5] == 0 and "one_input" in result.error[5]
    assert set(result.info[0]) == {"val_cross_entropy", "runtime_increase", "epoch"}
    described = evaluator.describe()
    assert described["epoch"] == 98 and described["onnxruntime"]
    with pytest.raises(ValueError, match="epoch"):
        NB301Evaluator(surrogate=surrogate, epoch=120)


class SmallDarts(DartsSpace):
    def __init__(self, data_dir=None, samples=1500, seed=0):
        super().__init__(data_dir, samples, seed)


def test_registry_load_small_pool(surrogate, surrogate_dir, tmp_path, monkeypatch):
    info = benchmarks.BENCHMARKS["nb301"]
    assert (info.space, info.needs_file, info.datasets) == ("darts", True, ("cifar10",))
    with pytest.raises(ValueError, match="reads a file"):
        benchmarks.load("nb301", data_dir=tmp_path)
    monkeypatch.setitem(spaces.SPACES, "darts", SmallDarts)
    bench = benchmarks.load("nb301", file=surrogate_dir, data_dir=tmp_path)
    space = spaces.get("darts", data_dir=tmp_path)
    assert bench.space == "darts" and len(bench) == len(space.all()) == 1500
    pred = surrogate.predict(space.genotypes()[:20])
    np.testing.assert_allclose(bench.search[:20], 100 * pred["val_accuracy"])
    np.testing.assert_allclose(bench.cost[:20], pred["runtime"])
    np.testing.assert_array_equal(bench.valid, bench.search)
    assert np.isnan(bench.test).all() and len(bench.pool) == 1500
    # second load reads the cache; another epoch is another cache
    cached = list(tmp_path.glob("nb301_1500_0_e98.npz"))
    assert len(cached) == 1
    again = benchmarks.load("nb301", file=surrogate_dir, data_dir=tmp_path)
    np.testing.assert_array_equal(again.search, bench.search)
    early = nb301.nb301_benchmark(surrogate, space, epoch=12)
    assert np.median(early.search) < np.median(bench.search)
    assert np.median(early.cost) < np.median(bench.cost)
    with pytest.raises(ValueError, match="cifar10"):
        benchmarks.load("nb301", "cifar100", file=surrogate_dir, data_dir=tmp_path)


def test_surrogate_pickles_for_worker_processes(surrogate_dir):
    import pickle

    evaluator = NB301Evaluator(surrogate_dir)
    again = pickle.loads(pickle.dumps(evaluator))
    cells = spaces.get("darts").all()[:5]
    np.testing.assert_array_equal(again.evaluate(cells).reward, evaluator.evaluate(cells).reward)


def test_reproduce_table4_pairs_every_strategy(surrogate_dir, tmp_path, monkeypatch):
    """`reproduce table4` on a 1,500-cell DARTS pool: each strategy's runs of 100 queries on the
    same seeds, the table beside the paper's test errors, the paired comparison and its plot."""
    from arch2vec.analysis import reproduce

    monkeypatch.setitem(spaces.SPACES, "darts", SmallDarts)
    monkeypatch.setenv("ARCH2VEC_DATA", str(tmp_path / "data"))
    embeddings = np.random.default_rng(0).normal(size=(1500, 8)).astype(np.float32)
    rows = reproduce.table4(
        tmp_path / "t4",
        surrogate_dir,
        embeddings=embeddings,
        strategies=["random", "arch2vec-lbo"],
        runs=3,
        workers=1,
        progress=False,
        log=lambda _: None,
    )
    assert [r["strategy"] for r in rows] == ["random", "arch2vec-lbo"]
    assert all(r["runs"] == 3 and r["queries_mean"] == 100 for r in rows)
    text = (tmp_path / "t4" / "table4.md").read_text()
    assert "| RS (3 runs) | 100 |" in text and "3.29 ± 0.15" in text  # the paper's RS error
    assert "### DARTS on the NB-301 surrogate, 100 queries" in text
    assert (tmp_path / "t4" / "regret.png").is_file()
    bench = benchmarks.load("nb301", file=surrogate_dir)
    seeds = []
    for r in rows:
        lines = (tmp_path / "t4" / r["strategy"] / "runs.jsonl").read_text().splitlines()
        runs = [json.loads(line) for line in lines]
        seeds.append(sorted(run["seed"] for run in runs))
        for run in runs:  # the best reward found is the table's value of the best cell
            assert run["best_valid"][-1] == pytest.approx(bench.valid[run["best_index"][-1]])
    assert seeds[0] == seeds[1] and len(set(seeds[0])) == 3  # paired on the same seeds
    # a later call with another strategy: both tables list every strategy folder of OUT
    reproduce.table4(
        tmp_path / "t4",
        surrogate_dir,
        strategies=["evolution"],
        runs=2,
        progress=False,
        log=lambda _: None,
    )
    text = (tmp_path / "t4" / "table4.md").read_text()
    head, paired_part = text.split("### DARTS on the NB-301 surrogate")
    for row in ("| RS (3 runs) |", "| RE (2 runs) |", "| arch2vec-LBO (3 runs) |"):
        assert row in head
    assert "| RE | 2 |" in paired_part and "| RS | 3 |" in paired_part
