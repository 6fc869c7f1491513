"""`arch2vec analyze predictive|smoothness|tsne` and `arch2vec report` end to end on NB-201.

The embeddings are a fixed random projection of each cell's one-hot ops (a stand-in for a
pre-training run, so the tests need no training); the accuracies are the embedded NB-201 data.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from arch2vec import io, spaces
from arch2vec.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def embeddings(tmp_path_factory):
    cells = spaces.get("nb201").all()
    onehot = cells.onehot(7).reshape(len(cells), -1).astype(np.float32)
    proj = np.random.default_rng(0).normal(size=(onehot.shape[1], 16)).astype(np.float32)
    path = tmp_path_factory.mktemp("emb") / "embeddings.npz"
    io.save_arrays(path, {"space": "nb201"}, embeddings=onehot @ proj / 4)
    return path


def test_predictive(embeddings, tmp_path, capsys):
    out = tmp_path / "pred"
    argv = ["analyze", "predictive", "--embeddings", str(embeddings), "--benchmark", "nb201"]
    argv += ["--train-size", "60", "--seeds", "2", "--include", "arch2vec", "flat"]
    assert main([*argv, "--out", str(out), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert set(results) == {"arch2vec", "flat"}
    for r in results.values():
        assert r["rmse"] >= 0 and abs(r["pearson_r"]) <= 1
        assert r["rmse_fraction"] == pytest.approx(r["rmse"] / 100)
    saved = json.loads((out / "predictive.json").read_text())
    assert saved["results"]["flat"]["rmse"] == results["flat"]["rmse"]
    assert (out / "predictive.png").read_bytes()[:8] == PNG


def test_smoothness_walk_steps_and_plots(embeddings, tmp_path, capsys):
    out = tmp_path / "smooth"
    argv = ["analyze", "smoothness", "--embeddings", str(embeddings), "--walk-length", "60"]
    assert main([*argv, "--starts", "2", "--steps", "4", "--out", str(out), "--json"]) == 0
    brief = json.loads(capsys.readouterr().out)["arch2vec"]
    assert brief["nn_walk_mean_edit_distance"] >= 1  # consecutive walk cells differ
    assert "1" in brief["distance_by_edit"]  # the random walk has pairs one edit apart
    saved = json.loads((out / "smoothness.json").read_text())
    assert len(saved["embeddings"]["arch2vec"]["nn_walk"]["walks"][0]) == 5
    for name in ("distance_by_edit.png", "nn_walk_arch2vec.png"):
        assert (out / name).read_bytes()[:8] == PNG


def test_tsne(embeddings, tmp_path, capsys):
    out = tmp_path / "tsne"
    argv = ["analyze", "tsne", "--embeddings", str(embeddings), "--benchmark", "nb201"]
    assert main([*argv, "--n", "150", "--perplexity", "10", "--out", str(out)]) == 0
    assert "t-SNE of 150 cells" in capsys.readouterr().out
    saved = json.loads((out / "tsne.json").read_text())
    assert np.asarray(saved["coords"]).shape == (150, 2)
    assert (out / "tsne.png").read_bytes()[:8] == PNG


def test_report_of_a_search(tmp_path, capsys):
    exp = tmp_path / "rs"
    argv = ["search", "--strategy", "random", "--runs", "2", "--budget-queries", "10"]
    assert main([*argv, "--workers", "1", "--out", str(exp)]) == 0
    capsys.readouterr()
    assert main(["report", str(exp), "--out", str(tmp_path / "rep"), "--json"]) == 0
    path = json.loads(capsys.readouterr().out)["report"]
    text = open(path).read()
    assert "data:image/png;base64," in text and "random" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["analyze", "smoothness", "--embeddings", "/nonexistent/run"], "no such pre-training"),
        (["report", "/nonexistent/exp"], "not a search experiment"),
    ],
)
def test_bad_paths_are_one_line_errors(argv, message, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
