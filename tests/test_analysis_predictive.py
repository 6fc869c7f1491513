"""GP-predictiveness of representations (paper Figure 1) on real NAS-Bench-201 CIFAR-10 data.

The embedded benchmark gives the validation accuracy of all 15,625 cells; the tests use a seeded
pool of 400 of them and small GINs so that they stay fast.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy import stats

from arch2vec import __version__, benchmarks, io, spaces
from arch2vec.analysis.predictive import (
    evaluate_predictive,
    flat_encoding,
    gp_predict,
    plot_predictive,
    run_predictive,
    supervised_embedding,
)
from arch2vec.spaces.cells import PAD, Cells

SMALL_GIN = {"gin_hidden": (32, 32), "head_hidden": 32}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def nb201():
    bench = benchmarks.load("nb201", "cifar10")
    space = spaces.get("nb201")
    pool = np.random.default_rng(7).choice(len(bench.valid), 400, replace=False)  # unsorted
    return space, space.all(), bench.valid, pool


def oracle(acc: np.ndarray, noise: float, seed: int) -> np.ndarray:
    """A 1-d feature that is the accuracy plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    return (acc + noise * rng.standard_normal(len(acc)))[:, None]


def test_flat_encoding_by_hand():
    # 4 nodes, the last one padding: edges 0->1, 0->2, 1->2; ops 0, 2, 1, PAD of 3 op kinds
    adj = np.zeros((4, 4), dtype=np.uint8)
    adj[0, 1] = adj[0, 2] = adj[1, 2] = 1
    cells = Cells(adj, np.array([0, 2, 1, PAD]))
    got = flat_encoding(cells, 3)
    upper = [1, 1, 0, 1, 0, 0]  # (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
    ops = [1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array([upper + ops], dtype=np.float32))


def test_flat_encoding_nb201(nb201):
    space, cells, _, _ = nb201
    enc = flat_encoding(cells[[0, 1]], len(space.ops))
    assert enc.shape == (2, 28 + 8 * 7)
    # the fixed NB-201 DAG: node 0 feeds 1, 2, 4; 1 feeds 3, 5; 2, 3 feed 6; 4, 5, 6 feed 7
    row0 = [1, 1, 0, 1, 0, 0, 0]
    np.testing.assert_array_equal(enc[:, :7], [row0, row0])
    assert enc[:, :28].sum(axis=1).tolist() == [10.0, 10.0]
    # cell 0 is all "none" (op 5); cell 1 differs in the last edge op only (skip, op 4)
    ops0 = np.zeros((8, 7))
    ops0[np.arange(8), [0, 5, 5, 5, 5, 5, 5, 6]] = 1
    np.testing.assert_array_equal(enc[0, 28:], ops0.ravel())
    assert np.flatnonzero(enc[0] != enc[1]).tolist() == [28 + 6 * 7 + 4, 28 + 6 * 7 + 5]


def test_gp_recovers_a_predictive_feature(nb201):
    _, _, acc, pool = nb201
    x = np.full((len(acc), 1), np.nan)
    x[pool] = oracle(acc[pool], 1.0, 0)
    train = pool[:100]
    mean, std = gp_predict(x, train, acc[train], predict_idx=pool)
    assert mean.shape == std.shape == (len(pool),)
    assert (std > 0).all()
    held = np.isin(pool, train, invert=True)
    assert stats.pearsonr(mean[held], acc[pool][held]).statistic > 0.9
    # chunking changes nothing; predict_idx selects rows
    again, std2 = gp_predict(x, train, acc[train], predict_idx=pool[::-1], chunk=37)
    np.testing.assert_allclose(again, mean[::-1], rtol=1e-9)
    np.testing.assert_allclose(std2, std[::-1], rtol=1e-9)
    matern, _ = gp_predict(x, train, acc[train], predict_idx=pool, kernel="matern")
    assert stats.pearsonr(matern[held], acc[pool][held]).statistic > 0.9
    with pytest.raises(ValueError, match="finite"):
        gp_predict(x, train, acc[train])  # rows outside the pool are NaN
    with pytest.raises(ValueError, match="targets"):
        gp_predict(x, train, acc[train][:-1], predict_idx=pool)
    with pytest.raises(ValueError, match="kernel"):
        gp_predict(x, train, acc[train], predict_idx=pool, kernel="linear")


def test_evaluate_predictive(nb201):
    _, _, acc, pool = nb201
    noise = np.random.default_rng(1).standard_normal((len(acc), 4))
    calls = []

    def per_seed(train_idx, seed):
        calls.append((np.array(train_idx), seed))
        return oracle(acc, 0.5, seed)

    feats = {"oracle": oracle(acc, 1.0, 3), "noise": noise, "callable": per_seed}
    result = evaluate_predictive(feats, acc, pool, train_size=80, seeds=3, threshold=80.0, seed=5)
    above = acc[pool] > 80.0
    assert result["config"]["evaluated_cells"] == int(above.sum()) > 250
    assert result["config"]["pool_size"] == 400
    for name, r in result["results"].items():
        per = r["per_seed"]
        assert per["seed"] == [5, 6, 7]
        assert len(per["rmse"]) == len(per["pearson_r"]) == 3
        assert all(v >= 0 for v in per["rmse"]) and all(abs(v) <= 1 for v in per["pearson_r"])
        assert r["rmse"] == pytest.approx(np.mean(per["rmse"]))
        assert r["rmse_std"] == pytest.approx(np.std(per["rmse"], ddof=1))
        assert r["rmse_fraction"] == pytest.approx(r["rmse"] / 100)
        # the first seed's metrics are those of its scatter arrays
        sc = result["scatter"][name]
        np.testing.assert_array_equal(sc["true"], acc[pool][above])
        assert per["rmse"][0] == pytest.approx(np.sqrt(np.mean((sc["pred"] - sc["true"]) ** 2)))
        assert per["pearson_r"][0] == pytest.approx(stats.pearsonr(sc["pred"], sc["true"])[0])
        assert sc["train"].sum() == np.isin(calls[0][0], pool[above]).sum()
    res = result["results"]
    first = acc[calls[0][0]].mean()  # predicting every cell by the training cells' mean
    base = result["mean_predictor"]
    assert base["per_seed"][0] == pytest.approx(np.sqrt(np.mean((first - acc[pool][above]) ** 2)))
    assert res["oracle"]["rmse"] < base["rmse"] / 2
    assert res["oracle"]["pearson_r"] > 0.9 and res["callable"]["pearson_r"] > 0.9
    assert res["noise"]["pearson_r"] < 0.5
    assert res["oracle"]["rmse"] < res["noise"]["rmse"]
    # the callable was re-run per seed on that seed's training cells, drawn from the pool
    assert [s for _, s in calls] == [5, 6, 7]
    for train_idx, _ in calls:
        assert len(np.unique(train_idx)) == 80 and np.isin(train_idx, pool).all()
    assert not np.array_equal(np.sort(calls[0][0]), np.sort(calls[1][0]))
    # deterministic by seed; another seed draws other training cells
    again = evaluate_predictive(
        {"noise": noise}, acc, pool, train_size=80, seeds=3, threshold=80.0, seed=5
    )
    for key in ("seed", "rmse", "pearson_r"):
        assert again["results"]["noise"]["per_seed"][key] == res["noise"]["per_seed"][key]
    other = evaluate_predictive({"noise": noise}, acc, pool, train_size=80, seeds=1, seed=6)
    assert other["results"]["noise"]["per_seed"]["rmse"][0] == res["noise"]["per_seed"]["rmse"][1]


def test_evaluate_predictive_bad_input(nb201):
    _, _, acc, pool = nb201
    feats = {"noise": np.random.default_rng(0).standard_normal((len(acc), 2))}
    with pytest.raises(ValueError, match="train_size 401"):
        evaluate_predictive(feats, acc, pool, train_size=401)
    with pytest.raises(ValueError, match="0 pool cells have accuracy > 95"):
        evaluate_predictive(feats, acc, pool, threshold=95.0)
    with pytest.raises(ValueError, match="percent expected"):
        evaluate_predictive(feats, acc / 100, pool, train_size=50)
    with pytest.raises(ValueError, match="shape"):
        evaluate_predictive({"bad": feats["noise"][:10]}, acc, pool, train_size=50)
    with pytest.raises(ValueError, match="seeds"):
        evaluate_predictive(feats, acc, pool, train_size=50, seeds=0)
    holed = acc.copy()
    holed[pool[3]] = np.nan
    with pytest.raises(ValueError, match="without an accuracy"):
        evaluate_predictive(feats, holed, pool, train_size=50)
    with pytest.raises(ValueError, match="distinct"):
        evaluate_predictive(feats, acc, np.r_[pool, pool[:1]], train_size=50)


def test_supervised_embedding_deterministic_and_learned(nb201):
    space, cells, acc, pool = nb201
    train = pool[:120]
    state = torch.random.get_rng_state()
    kw = {"indices": pool, **SMALL_GIN}
    a = supervised_embedding(space, cells, train, acc[train], seed=3, epochs=40, **kw)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG is left alone
    b = supervised_embedding(space, cells, train, acc[train], seed=3, epochs=40, **kw)
    c = supervised_embedding(space, cells, train, acc[train], seed=4, epochs=40, **kw)
    assert a.shape == (400, 16) and a.dtype == np.float32 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # eval-mode embedding of a row does not depend on its batch
    rows = supervised_embedding(
        space, cells, train, acc[train], seed=3, epochs=40, encode_batch=7, **kw
    )
    np.testing.assert_allclose(rows, a, rtol=1e-5, atol=1e-6)

    # trained on the accuracies, the embedding puts cells of similar accuracy together: the mean
    # accuracy of a held-out cell's 5 nearest training cells ranks the held-out cells well
    # (about 0.8); with an untrained (random) GIN much less well (0.4-0.66 for seeds 3-5)
    def knn_rank(emb):
        d = ((emb[120:, None] - emb[None, :120]) ** 2).sum(-1)
        guess = acc[train][np.argsort(d, axis=1)[:, :5]].mean(axis=1)
        return stats.spearmanr(guess, acc[pool[120:]]).statistic

    untrained = [
        knn_rank(supervised_embedding(space, cells, train, acc[train], seed=s, epochs=0, **kw))
        for s in (3, 4, 5)
    ]
    assert knn_rank(a) > 0.7
    assert knn_rank(a) > np.mean(untrained) + 0.1
    with pytest.raises(ValueError, match="targets"):
        supervised_embedding(space, cells, train, acc[train][:5], seed=0)


def test_run_predictive_writes_json_and_png(nb201, tmp_path):
    space, cells, acc, _ = nb201
    emb = flat_encoding(cells, len(space.ops))  # "embeddings" that are the flat encoding
    npz = tmp_path / "emb.npz"
    io.save_arrays(npz, {"space": "nb201"}, embeddings=emb)
    out = tmp_path / "out"
    summary = run_predictive(
        npz,
        "nb201",
        out,
        train_size=60,
        seeds=2,
        seed=1,
        dataset="cifar10",
        supervised_options={**SMALL_GIN, "epochs": 10},
    )
    assert (out / "predictive.png").read_bytes()[:8] == PNG
    data = json.loads((out / "predictive.json").read_text())
    assert data["arch2vec"] == __version__
    assert data["config"]["train_size"] == 60 and data["config"]["pool_size"] == 15625
    assert data["config"]["include"] == ["arch2vec", "supervised", "flat"]
    assert set(data["results"]) == {"arch2vec", "supervised", "flat"}
    for r in data["results"].values():
        assert r["rmse"] >= 0 and -1 <= r["pearson_r"] <= 1
        assert r["rmse_fraction"] == pytest.approx(r["rmse"] / 100)
    assert data["results"]["flat"]["rmse"] == pytest.approx(summary["results"]["flat"]["rmse"])
    # the loaded embeddings are the flat encoding: same features, same cells, same numbers
    assert data["results"]["arch2vec"]["per_seed"]["rmse"] == pytest.approx(
        data["results"]["flat"]["per_seed"]["rmse"], rel=1e-9
    )
    assert data["results"]["supervised"]["per_seed"]["seed"] == [1, 2]
    # min_accuracy drops the low cells from the pool (training draws and evaluation alike)
    high = run_predictive(
        None, "nb201", out, train_size=30, seeds=1, include=("flat",), min_accuracy=85.0
    )
    assert high["config"]["pool_size"] == int((acc >= 85.0).sum()) < 15625
    assert set(high["results"]) == {"flat"}
    with pytest.raises(ValueError, match="train_size 20000"):
        run_predictive(npz, "nb201", out, train_size=20000, include=("flat",))
    with pytest.raises(ValueError, match="include"):
        run_predictive(npz, "nb201", out, include=("gae",))
    with pytest.raises(ValueError, match="embeddings"):
        run_predictive(None, "nb201", out, include=("arch2vec",))


def test_plot_predictive(tmp_path):
    rng = np.random.default_rng(0)
    true = rng.uniform(80, 95, 50)
    result = {
        "scatter": {
            n: {"true": true, "pred": true + rng.normal(0, 1, 50), "train": np.arange(50) < 5}
            for n in ("a", "b")
        },
        "results": {n: {"per_seed": {"rmse": [1.0], "pearson_r": [0.9]}} for n in ("a", "b")},
    }
    out = plot_predictive(result, tmp_path / "sub" / "p.png", title="t")
    assert out.read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="scatter"):
        plot_predictive({"results": {}}, tmp_path / "q.png")


def test_predictive_plot_zooms_to_the_data():
    from arch2vec.analysis.plots import pyplot
    from arch2vec.analysis.predictive import predictive_figure

    rng = np.random.default_rng(1)
    true = rng.uniform(88, 94, 1000)
    pred = true + rng.normal(0, 0.5, 1000)
    pred[:3] = 20.0  # three wild predictions must not squeeze the rest into a corner
    result = {
        "scatter": {"a": {"true": true, "pred": pred, "train": np.arange(1000) < 10}},
        "results": {"a": {"per_seed": {"seed": [0], "rmse": [1.0], "pearson_r": [0.9]}}},
    }
    fig = predictive_figure(result)
    try:
        ax = fig.axes[0]
        lo, hi = ax.get_xlim()
        assert 85 < lo < 88 and 94 < hi < 97, (lo, hi)
        assert ax.get_ylim() == (lo, hi)
        assert any(t.get_text() == "3 outside the view" for t in ax.texts)
    finally:
        pyplot().close(fig)
