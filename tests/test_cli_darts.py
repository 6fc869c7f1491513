"""`arch2vec search --evaluator nb301|train` and `arch2vec darts-eval` from the command line."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import shared_file
from test_darts_training import write_cifar_folder

from arch2vec.cli import main
from arch2vec.spaces.darts import parse_genotype


def test_search_with_the_surrogate(tmp_path, capsys):
    pytest.importorskip("onnxruntime", reason="the NB-301 surrogate needs arch2vec[nb301]")
    surrogate = shared_file("nb301/yahpo_data_v2/nb301/model_v2.onnx").parent
    out = tmp_path / "rs"
    argv = ["search", "--evaluator", "nb301", "--surrogate-dir", str(surrogate)]
    argv += ["--strategy", "random", "--runs", "2", "--budget-queries", "12", "--out", str(out)]
    assert main([*argv, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["runs"] == 2 and summary["failures"] == 0
    best = summary["best"]
    parse_genotype(best["genotype"])  # the best cell is a legal genotype
    assert 85.0 < best["reward"] < 96.0  # a surrogate accuracy of a random DARTS cell
    rows = [json.loads(x) for x in (out / "run_0000.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and len({r["index"] for r in rows}) == 12
    assert (out / "best_cell.png").read_bytes()[:4] == b"\x89PNG"


def test_search_with_training_and_final_evaluation(tmp_path, capsys):
    torch.set_num_threads(1)
    data = write_cifar_folder(tmp_path, n_per_batch=4)
    out = tmp_path / "train"
    argv = ["search", "--evaluator", "train", "--data", str(data), "--strategy", "random"]
    argv += ["--budget-queries", "2", "--epochs", "1", "--layers", "3", "--channels", "4"]
    argv += ["--batch-size", "8", "--device", "cpu", "--out", str(out), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["budget_queries"] == 2 and 0.0 <= summary["best"]["reward"] <= 100.0
    argv = ["darts-eval", "--run", str(out), "--data", str(data), "--epochs", "1"]
    argv += ["--layers", "3", "--channels", "4", "--batch-size", "8", "--device", "cpu"]
    assert main([*argv, "--out", str(tmp_path / "final.json"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert 0.0 <= record["test_accuracy_final"] <= 100.0
    assert json.loads((tmp_path / "final.json").read_text())["params"] == record["params"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--evaluator", "nb301", "--budget-queries", "5"], "(--surrogate-dir)"),
        (["--evaluator", "train", "--budget-queries", "5"], "(--data)"),
        (["--evaluator", "train", "--budget-seconds", "5", "--data", "x"], "not a directory"),
        (["--evaluator", "nope", "--budget-queries", "5"], "unknown evaluator 'nope'"),
    ],
)
def test_evaluator_option_errors(argv, message, tmp_path, capsys):
    code = main(["search", "--strategy", "random", *argv, "--out", str(tmp_path / "o")])
    assert code == 2 and message in capsys.readouterr().err
