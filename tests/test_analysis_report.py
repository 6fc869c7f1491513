import base64
import json
import re

import numpy as np
import pytest

from arch2vec import benchmarks, search
from arch2vec.analysis import plots
from arch2vec.analysis.report import build_report, load_experiment

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def experiments(tmp_path_factory):
    """Two small real experiments on the embedded NB-201 CIFAR-10 benchmark."""
    root = tmp_path_factory.mktemp("exps")
    dirs = []
    bench = benchmarks.load("nb201", "cifar10")
    for strategy in ("random", "evolution"):
        search.run(strategy, bench, runs=4, budget_queries=30, out_dir=root / strategy)
        dirs.append(root / strategy)
    return dirs


@pytest.fixture(scope="module")
def html_report(experiments, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return build_report(experiments, out, fmt="html")


def write_experiment(path, rows, evaluator=None):
    path.mkdir(parents=True)
    if evaluator is None:
        optimum = benchmarks.load("nb201", "cifar10").best_valid
        evaluator = {
            "evaluator": "table",
            "benchmark": "nb201",
            "dataset": "cifar10",
            "file": None,
            "optimum": {"search": optimum, "valid": optimum, "test": None},
        }
    config = {"strategy": "random", "evaluator": evaluator}
    (path / "config.json").write_text(json.dumps({"config": config, "arch2vec": "test"}))
    (path / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_row(seed, cost, best_valid):
    n = len(cost)
    return {
        "run": seed,
        "seed": seed,
        "index": list(range(n)),
        "cost": cost,
        "reward": best_valid,
        "best_reward": best_valid,
        "best_valid": best_valid,
        "best_test": [None] * n,
        "best_index": list(range(n)),
    }


HAND_ROWS = [
    run_row(0, [10.0, 30.0, 70.0], [80.0, 85.0, 90.0]),
    run_row(1, [20.0, 40.0], [88.0, None]),
]


def test_regret_by_time_is_a_step_function_of_cost():
    grid = np.array([5.0, 10.0, 25.0, 30.0, 50.0, 70.0, 100.0])
    got = plots.regret_by_time(HAND_ROWS, 91.0, grid)
    nan = np.nan
    want = np.array(
        [
            [nan, 11.0, 11.0, 6.0, 6.0, 1.0, 1.0],  # result of a query known at its cost
            [nan, nan, 3.0, 3.0, nan, nan, nan],  # a missing value stays missing
        ]
    )
    np.testing.assert_array_equal(got, want)
    by_query = plots.regret_by_query(HAND_ROWS, 91.0)
    np.testing.assert_array_equal(by_query, [[11.0, 6.0, 1.0], [3.0, nan, nan]])
    np.testing.assert_array_equal(plots.final_regret(HAND_ROWS, 91.0), [1.0, nan])


def test_mean_band_and_ecdf_by_hand():
    values = np.array([[1.0, 2.0, np.nan], [3.0, 2.0, 5.0]])
    mean, low, high, count = plots.mean_band(values)
    np.testing.assert_array_equal(mean, [2.0, 2.0, 5.0])
    np.testing.assert_array_equal(count, [2, 2, 1])
    half = plots.Z95 * np.std([1.0, 3.0], ddof=1) / np.sqrt(2)
    np.testing.assert_allclose([low[0], high[0]], [2.0 - half, 2.0 + half])
    assert low[1] == high[1] == 2.0 and low[2] == high[2] == 5.0  # no spread / a single run
    x, y = plots.ecdf(np.array([0.3, np.nan, 0.1, 0.2, 0.1]))
    np.testing.assert_array_equal(x, [0.1, 0.1, 0.2, 0.3])
    np.testing.assert_array_equal(y, [0.25, 0.5, 0.75, 1.0])


def test_log_grid_spans_from_the_latest_first_query_to_the_end():
    grid = plots.log_grid([HAND_ROWS], points=5)
    np.testing.assert_allclose(grid, np.geomspace(20.0, 70.0, 5))
    with pytest.raises(ValueError, match="no run made any query"):
        plots.log_grid([[run_row(0, [], [])]])


def test_report_on_hand_written_runs_has_the_hand_computed_numbers(tmp_path):
    exp = write_experiment(tmp_path / "hand", HAND_ROWS)
    optimum = benchmarks.load("nb201", "cifar10").best_valid
    path = build_report([exp], tmp_path / "out", fmt="markdown", grid_points=3)
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    (group,) = doc["groups"]
    assert (
        group["optimum"] == pytest.approx(optimum) and group["regret_of"] == "validation accuracy"
    )
    np.testing.assert_allclose(group["time_grid"], np.geomspace(20.0, 70.0, 3), rtol=1e-6)
    (e,) = group["experiments"]
    t = np.sqrt(20.0 * 70.0)  # middle grid point, ~37.4 s: run 0 knows 2 queries, run 1 one
    assert t < 40
    # at 20 s: run 0 has 80, run 1 has 88; at ~37 s: 85 and 88; at 70 s: 90 and (missing)
    want = [np.mean([optimum - 80, optimum - 88]), np.mean([optimum - 85, optimum - 88])]
    np.testing.assert_allclose(e["time"]["mean"][:2], want, rtol=1e-6)
    assert e["time"]["mean"][2] == pytest.approx(optimum - 90, rel=1e-6)
    assert e["time"]["runs"] == [2, 2, 1]
    np.testing.assert_allclose(e["final_regret"][0], optimum - 90, rtol=1e-6)
    assert e["final_regret"][1] is None
    assert e["ecdf"]["y"] == [1.0]
    assert e["summary"]["runs"] == 2 and e["summary"]["queries_mean"] == 2.5
    text = path.read_text()
    assert path.name == "report.md" and "| hand | random | 2 | 2.5 |" in text
    for link in re.findall(r"!\[[a-z]+\]\(([^)]+)\)", text):
        assert (tmp_path / "out" / link).read_bytes()[:8] == PNG
    assert len(re.findall(r"!\[", text)) == 3


def test_html_report_is_self_contained(html_report, experiments):
    text = html_report.read_text()
    assert html_report.name == "report.html"
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 3
    for data in images:
        assert base64.b64decode(data)[:8] == PNG
    assert "<table>" in text and text.count("<tr>") == 1 + len(experiments)
    for strategy in ("random", "evolution"):
        assert f"<td>{strategy}</td>" in text
    # the best cell's arch string wraps in its own column instead of widening the page
    cells = re.findall(r'<td class="cell">([^<]+)</td>', text)
    assert len(cells) == len(experiments) and all(c.startswith("|") for c in cells)
    assert "td.cell{" in text and "overflow-wrap:anywhere" in text
    for png in html_report.parent.glob("*.png"):
        assert png.read_bytes()[:8] == PNG


def test_report_curves_of_real_runs(html_report, experiments):
    doc = json.loads((html_report.parent / "report.json").read_text())
    (group,) = doc["groups"]
    assert (group["benchmark"], group["dataset"]) == ("nb201", "cifar10")
    optimum = benchmarks.load("nb201", "cifar10").best_valid
    grid = np.array(group["time_grid"])
    assert len(grid) == 200 and np.all(np.diff(grid) > 0)
    np.testing.assert_allclose(np.diff(np.log(grid)), np.log(grid[1] / grid[0]), rtol=1e-4)
    for exp_dir, e in zip(experiments, group["experiments"], strict=True):
        rows = load_experiment(exp_dir).rows
        by_time = plots.regret_by_time(rows, optimum, grid)
        assert not np.isnan(by_time).any()  # the grid starts once every run has a result
        # on the embedded benchmark search reward = validation accuracy: regret never rises
        assert (np.diff(by_time, axis=1) <= 1e-9).all()
        assert (np.diff(plots.regret_by_query(rows, optimum), axis=1) <= 1e-9).all()
        np.testing.assert_allclose(e["time"]["mean"], by_time.mean(axis=0), atol=1e-5)
        for curve in (e["time"], e["queries"]):
            mean, low, high = (np.array(curve[k]) for k in ("mean", "low", "high"))
            assert (low <= mean + 1e-9).all() and (mean <= high + 1e-9).all()
            assert (mean >= -1e-9).all()
        final = np.array([optimum - r["best_valid"][-1] for r in rows])
        np.testing.assert_allclose(e["ecdf"]["x"], np.sort(final), atol=1e-5)
        y = np.array(e["ecdf"]["y"])
        assert 0 < y[0] and y[-1] == 1 and (np.diff(y) > 0).all()
        summary = json.loads((exp_dir / "summary.json").read_text())
        assert e["summary"]["final_regret_mean"] == pytest.approx(
            summary["final_regret_mean"], abs=1e-4
        )
        assert e["summary"]["wall_seconds"] == summary["wall_seconds"]


def test_experiments_are_grouped_by_benchmark_and_dataset(experiments, tmp_path):
    other = tmp_path / "c100"
    bench = benchmarks.load("nb201", "cifar100")
    search.run("random", bench, runs=2, budget_queries=10, out_dir=other)
    build_report([experiments[0], other], tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [g["dataset"] for g in doc["groups"]] == ["cifar10", "cifar100"]
    c100 = benchmarks.load("nb201", "cifar100").best_valid
    assert doc["groups"][1]["optimum"] == pytest.approx(c100)
    assert len(list((tmp_path / "out").glob("*.png"))) == 6


def test_not_an_experiment_fails_in_one_line(tmp_path, experiments):
    empty = tmp_path / "nothing"
    empty.mkdir()
    with pytest.raises(ValueError) as info:
        build_report([experiments[0], empty], tmp_path / "out")
    message = str(info.value)
    assert str(empty) in message and "not a search experiment" in message
    assert "\n" not in message
    assert not (tmp_path / "out").exists()  # every path is checked before anything is written
    with pytest.raises(ValueError, match="unknown report format"):
        build_report(experiments, tmp_path / "out", fmt="pdf")


def test_plot_regret_still_works(experiments, tmp_path):
    png = plots.plot_regret({"RS": experiments[0]}, 91.61, tmp_path / "r.png", title="t")
    assert png.read_bytes()[:8] == PNG


def test_report_of_a_search_without_a_known_optimum(tmp_path):
    """A surrogate or training search (DARTS): regret against the best reward found."""
    evaluator = {"evaluator": "nb301", "space": "darts", "epoch": 98}
    rows = [run_row(0, [10.0, 30.0], [92.0, 93.0]), run_row(1, [20.0, 40.0], [93.5, 93.5])]
    for r in rows:
        r["best_valid"] = [None] * len(r["index"])
    exp = write_experiment(tmp_path / "darts", rows, evaluator)
    build_report([exp], tmp_path / "out", fmt="markdown", grid_points=3)
    (group,) = json.loads((tmp_path / "out" / "report.json").read_text())["groups"]
    assert group["benchmark"] == "nb301" and group["optimum"] == 93.5
    assert "best found" in group["regret_of"] and group["key"] == "best_reward"
    (e,) = group["experiments"]
    np.testing.assert_allclose(e["final_regret"], [0.5, 0.0])
    assert e["label"] == "random (2 runs)"
