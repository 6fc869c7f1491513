import json

import numpy as np
import pytest

from arch2vec import benchmarks, io
from arch2vec.analysis.tsne import plot_tsne, run_tsne, tsne_map

PNG = b"\x89PNG\r\n\x1a\n"


def two_clusters(per=200, d=16, gap=12.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2 * per, d))
    x[per:] += gap / np.sqrt(d)  # centres `gap` apart, unit spread in every direction
    acc = np.r_[np.full(per, 60.0), np.full(per, 90.0)] + rng.normal(0, 1, 2 * per)
    return x, acc


def test_well_separated_clusters_separate_in_2d():
    x, acc = two_clusters()
    pool = np.arange(0, len(x), 2)  # every other cell may be drawn
    result = tsne_map(x, acc, pool, n=150, seed=0, max_iter=500)
    idx, coords = result["indices"], result["coords"]
    assert coords.shape == (150, 2) and set(idx) <= set(pool)
    np.testing.assert_array_equal(result["accuracy"], acc[idx])
    label = idx >= 200
    a, b = coords[~label], coords[label]
    assert 0 < label.sum() < len(label)
    # every cell's nearest neighbour in the map is from its own cluster ...
    dist = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    np.fill_diagonal(dist, np.inf)
    assert (label[dist.argmin(axis=1)] == label).all()
    # ... and the clusters lie apart: their centres (medians: t-SNE may fling out a point or
    # two) are many typical radii apart
    gap = np.linalg.norm(np.median(a, axis=0) - np.median(b, axis=0))
    radius = max(np.median(np.linalg.norm(c - np.median(c, axis=0), axis=1)) for c in (a, b))
    assert gap > 3 * radius


def test_same_seed_same_map_and_sampling_rules():
    x, acc = two_clusters(per=100)
    acc[::7] = np.nan  # cells without an accuracy are never drawn
    one = tsne_map(x, acc, n=80, seed=3, max_iter=250)
    two = tsne_map(x, acc, n=80, seed=3, max_iter=250)
    np.testing.assert_array_equal(one["indices"], two["indices"])
    np.testing.assert_array_equal(one["coords"], two["coords"])
    other = tsne_map(x, acc, n=80, seed=4, max_iter=250)
    assert not np.array_equal(one["indices"], other["indices"])
    idx = one["indices"]
    assert len(set(idx)) == 80 and (np.diff(idx) > 0).all() and np.isfinite(acc[idx]).all()
    every = tsne_map(x, acc, n=10_000, seed=0, max_iter=250)  # n above the pool: all of it
    np.testing.assert_array_equal(every["indices"], np.flatnonzero(np.isfinite(acc)))
    assert every["config"]["n"] == np.isfinite(acc).sum()


def test_bad_arguments_fail_clearly():
    x, acc = two_clusters(per=10)
    with pytest.raises(ValueError, match="perplexity below 20"):
        tsne_map(x, acc, n=100, perplexity=30)
    with pytest.raises(ValueError, match="do not match"):
        tsne_map(x, acc[:5])


def test_run_tsne_writes_json_and_png(tmp_path):
    bench = benchmarks.load("nb201", "cifar10")
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(bench), 8)).astype(np.float32)
    npz = tmp_path / "embeddings.npz"
    io.save_arrays(npz, {"space": "nb201"}, embeddings=emb)
    doc = run_tsne(npz, "nb201", tmp_path / "out", n=120, seed=1, max_iter=250)
    saved = json.loads((tmp_path / "out" / "tsne.json").read_text())
    assert saved == doc
    assert saved["config"]["benchmark"] == "nb201" and saved["config"]["n"] == 120
    assert saved["arch2vec"] and len(saved["indices"]) == len(saved["coords"]) == 120
    idx = np.array(saved["indices"])
    np.testing.assert_allclose(saved["accuracy"], bench.valid[idx], atol=1e-6)
    assert (tmp_path / "out" / "tsne.png").read_bytes()[:8] == PNG


def test_plot_tsne_png(tmp_path):
    rng = np.random.default_rng(0)
    result = {"coords": rng.normal(size=(50, 2)), "accuracy": rng.uniform(10, 90, 50)}
    out = plot_tsne(result, tmp_path / "a" / "map.png", title="t")
    assert out.read_bytes()[:8] == PNG


def test_iterations_are_counted_and_recorded(caplog, monkeypatch):
    import logging

    x, acc = two_clusters(per=40)
    monkeypatch.setenv("ARCH2VEC_LOG_EVERY", "0")  # a log line per update, then "done"
    with caplog.at_level(logging.INFO, logger="arch2vec"):
        result = tsne_map(x, acc, n=50, seed=0, perplexity=30, max_iter=60, progress=True)
    lines = [r.getMessage() for r in caplog.records if r.name == "arch2vec.progress"]
    assert lines[-1].startswith("t-SNE: done, 60/60 iterations (100%)")
    config = result["config"]
    assert config["early_exaggeration_iter"] == 30  # half of max_iter, at most 250
    assert config["perplexity_used"] == pytest.approx(49 / 3)  # 50 cells: (50 - 1) / 3
    assert np.isfinite(result["coords"]).all() and np.isfinite(result["kl_divergence"])
    with pytest.raises(ValueError, match="max_iter must be at least 2"):
        tsne_map(x, acc, n=50, max_iter=1)
    with pytest.raises(ValueError, match="n_jobs must be at least 1"):
        tsne_map(x, acc, n=50, n_jobs=0)
    bad = x.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        tsne_map(bad, acc, n=50)
