import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from arch2vec import benchmarks, search
from arch2vec.cli import main


@pytest.fixture(scope="module")
def nb201():
    return benchmarks.load("nb201", "cifar10")


def run_experiment(nb201, out, strategy="random", **kw):
    options = {"runs": 4, "budget_queries": 20, "workers": 1, **kw}
    return search.run(strategy, nb201, out_dir=out, **options).summary


def test_runs_are_recorded_and_summarised(tmp_path, nb201):
    summary = run_experiment(nb201, tmp_path / "exp")
    rows = [json.loads(x) for x in (tmp_path / "exp" / "runs.jsonl").read_text().splitlines()]
    assert sorted(r["run"] for r in rows) == [0, 1, 2, 3]
    for r in rows:
        assert r["seed"] == r["run"] and len(r["index"]) == 20 == len(set(r["index"]))
        assert r["best_reward"] == sorted(r["best_reward"])  # best so far never drops
        assert np.all(np.diff(r["cost"]) > 0)
    assert summary["runs"] == 4 and summary["queries_mean"] == 20
    assert 0 <= summary["final_regret_mean"] and summary["valid_accuracy_mean"] <= 91.61
    assert json.loads((tmp_path / "exp" / "summary.json").read_text()) == summary


def test_seconds_budget_is_never_exceeded(tmp_path, nb201):
    run_experiment(nb201, tmp_path / "e", budget_queries=None, budget_seconds=20_000, runs=2)
    for line in (tmp_path / "e" / "runs.jsonl").read_text().splitlines():
        assert json.loads(line)["cost"][-1] <= 20_000


def test_parallel_equals_serial(tmp_path, nb201):
    run_experiment(nb201, tmp_path / "a", workers=1)
    run_experiment(nb201, tmp_path / "b", workers=2)

    def runs(d):
        rows = [json.loads(x) for x in (d / "runs.jsonl").read_text().splitlines()]
        return {r["run"]: r for r in rows}

    assert runs(tmp_path / "a") == runs(tmp_path / "b")


def test_resume_skips_finished_runs_and_drops_a_cut_line(tmp_path, nb201):
    out = tmp_path / "exp"
    run_experiment(nb201, out, runs=2)
    with (out / "runs.jsonl").open("a") as f:
        f.write('{"run": 2, "seed": 2, "ind')  # killed while writing run 2
    seen = []
    run_experiment(nb201, out, runs=4, resume=True, on_run=lambda row: seen.append(row["run"]))
    assert seen == [2, 3]
    full = tmp_path / "full"
    run_experiment(nb201, full, runs=4)
    assert sorted((out / "runs.jsonl").read_text().splitlines()) == sorted(
        (full / "runs.jsonl").read_text().splitlines()
    )
    with pytest.raises(ValueError, match="resume it"):
        run_experiment(nb201, out, runs=4)
    with pytest.raises(ValueError, match="other settings"):
        run_experiment(nb201, out, runs=4, budget_queries=30, resume=True)
    before = (out / "runs.jsonl").read_text()
    with pytest.raises(ValueError, match=r"runs=3 would drop 1 of them: give runs >= 4"):
        run_experiment(nb201, out, runs=3, resume=True)  # finished work is never dropped
    assert (out / "runs.jsonl").read_text() == before


def test_sigkill_then_resume(tmp_path):
    out = tmp_path / "exp"
    argv = [
        sys.executable,
        "-m",
        "arch2vec.cli",
        "search",
        "--strategy",
        "random",
        "--runs",
        "40",
        "--budget-queries",
        "200",
        "--workers",
        "1",
        "--out",
        str(out),
        "--json",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    runs = out / "runs.jsonl"
    while (not runs.exists() or len(runs.read_text().splitlines()) < 3) and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    subprocess.run(argv + ["--resume"], check=True, capture_output=True)
    rows = [json.loads(x) for x in runs.read_text().splitlines()]
    assert sorted(r["run"] for r in rows) == list(range(40))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--strategy", "random", "--budget-queries", "5", "--hyper", "oops"], "KEY=VALUE"),
        (["--strategy", "arch2vec-bo", "--budget-queries", "5"], "needs embeddings"),
        (["--strategy", "random", "--budget-queries", "5", "--hyper", "x=1"], "no parameter 'x'"),
        (
            ["--strategy", "random", "--budget-queries", "5", "--space", "nb101"],
            "not those of nb101",
        ),
        (
            ["--strategy", "arch2vec-rl", "--budget-queries", "5", "--embeddings", "/nope"],
            "no such pre-training run",
        ),
    ],
)
def test_malformed_options(tmp_path, capsys, argv, message):
    code = main(["search", *argv, "--out", str(tmp_path / "x"), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_budget_is_required(tmp_path):
    with pytest.raises(SystemExit):
        main(["search", "--strategy", "random", "--out", str(tmp_path)])
