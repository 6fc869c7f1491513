import csv
import json

import numpy as np
import pytest
from conftest import shared_file

from arch2vec.analysis.paper import TABLE1, TABLE3
from arch2vec.analysis.reproduce import table1_markdown


def test_packaged_table1_equals_the_papers_csv():
    with shared_file("paper/table1_pretraining.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(TABLE1) == 9
    for row in rows:
        ours = TABLE1[(row["method"].lower(), row["space"])]
        for metric in ("reconstruction_accuracy", "validity", "uniqueness"):
            assert ours[metric] == float(row[metric])


def test_markdown_puts_paper_beside_ours():
    rows = [
        {
            "model": "arch2vec",
            "space": "nb201",
            "reconstruction_accuracy": 1.0,
            "validity": 0.6387,
            "uniqueness": 0.7966,
            "validity_ours": 0.6387,
            "uniqueness_ours": 0.7966,
            "validity_paper": 0.7941,
            "uniqueness_paper": 0.9,
        },
        {
            "model": "gae",
            "space": "nb101",
            "reconstruction_accuracy": 0.5,
            "validity": 0.0,
            "uniqueness": 0.0,
        },
    ]
    text = table1_markdown(rows)
    lines = text.strip().splitlines()
    assert len(lines) == 6  # header, rule, two rows, blank, the note on which columns compare
    assert lines[2] == (
        "| arch2vec | NAS-Bench-201 | 1 | 100.00 (100.00) | 79.41 (79.41) | 90.00 (98.72) | "
        "63.87 | 79.66 |"
    )
    assert lines[3].startswith("| GAE | NAS-Bench-101 | 1 | 50.00 (98.75) | n/a (29.88) |")
    assert lines[5].startswith("Compare with the paper")


def test_rows_over_seeds_are_mean_and_std_of_each_metric():
    from arch2vec.analysis.reproduce import over_seeds

    runs = [
        {"space": "nb201", "model": "gae", "seed": 0, "reconstruction_accuracy": 0.9,
         "validity_paper": 0.5, "decoder": "inner", "epochs": 72},
        {"space": "nb201", "model": "arch2vec", "seed": 0, "reconstruction_accuracy": 1.0},
        {"space": "nb201", "model": "gae", "seed": 1, "reconstruction_accuracy": 0.7,
         "validity_paper": 0.5, "decoder": "inner", "epochs": 72},
    ]  # fmt: skip
    rows = over_seeds(runs)
    assert [(r["model"], r["seeds"]) for r in rows] == [("gae", [0, 1]), ("arch2vec", [0])]
    gae = rows[0]
    assert gae["reconstruction_accuracy"] == pytest.approx(0.8)
    assert gae["reconstruction_accuracy_std"] == pytest.approx(0.1)  # population std of 0.9, 0.7
    assert gae["validity_paper_std"] == 0.0 and "seed" not in gae and gae["epochs"] == 72
    assert rows[1]["reconstruction_accuracy_std"] == 0.0
    line = table1_markdown(rows).splitlines()[2]
    assert line.startswith("| GAE | NAS-Bench-201 | 2 | 80.00 ± 10.00 (99.52) | 50.00 ± 0.00 (")


def test_table1_over_two_seeds_resumes_and_refuses_repeats(tmp_path):
    from arch2vec.analysis.reproduce import table1

    options = {"epochs": 1, "batch_size": 1024, "data_dir": str(tmp_path / "data")}
    rows = table1(tmp_path / "t1", spaces=("nb201",), models=("arch2vec",), samples=300,
                  seeds=(0, 1), overrides=options, progress=False, log=lambda _: None)  # fmt: skip
    assert len(rows) == 1 and rows[0]["seeds"] == [0, 1]
    saved = json.loads((tmp_path / "t1" / "table1.json").read_text())
    per_seed = [r["edge_accuracy"] for r in saved["runs"]]
    assert [r["seed"] for r in saved["runs"]] == [0, 1] and per_seed[0] != per_seed[1]
    assert rows[0]["edge_accuracy"] == pytest.approx(np.mean(per_seed))
    for seed in (0, 1):
        assert (tmp_path / "t1" / f"nb201-arch2vec-seed{seed}" / "checkpoint.pt").is_file()
    with pytest.raises(ValueError, match="seeds must be distinct"):
        table1(tmp_path / "t1", spaces=("nb201",), seeds=(1, 1))
    with pytest.raises(ValueError, match="seed"):
        table1(tmp_path / "t1", spaces=("nb201",), seeds=(-1,))


def test_packaged_table3_equals_the_papers_csv():
    names = {
        "RE": "evolution",
        "RS": "random",
        "REINFORCE": "reinforce",
        "BOHB": "bohb",
        "arch2vec-RL": "arch2vec-rl",
        "arch2vec-BO": "arch2vec-bo",
    }
    with shared_file("paper/table3_nb201.csv").open() as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for prefix, dataset in (
            ("c10", "cifar10"),
            ("c100", "cifar100"),
            ("in16", "imagenet16-120"),
        ):
            want = tuple(
                float(row[f"{prefix}_{k}"]) for k in ("val", "val_std", "test", "test_std")
            )
            assert TABLE3[(names[row["method"]], dataset)] == want


def test_table3_markdown_and_regret_plot(tmp_path):
    from arch2vec import benchmarks, search
    from arch2vec.analysis.plots import plot_regret, regret_by_query
    from arch2vec.analysis.reproduce import table3_markdown
    from arch2vec.search.record import read_runs

    exp = tmp_path / "rs"
    bench = benchmarks.load("nb201", "cifar10")
    summary = search.run("random", bench, runs=3, budget_queries=15, out_dir=exp).summary
    text = table3_markdown([summary])
    assert text.splitlines()[2].startswith("| RS (3 runs) | ")
    assert "(90.94 ± 0.38)" in text and "(93.75 ± 0.37)" in text
    # a strategy with other run counts on other datasets says so, in the datasets' order
    other = {**summary, "dataset": "cifar100", "runs": 5}
    assert table3_markdown([summary, other]).splitlines()[2].startswith("| RS (3/5 runs) | ")
    regret = regret_by_query(list(read_runs(exp).values()), 91.61)
    assert regret.shape == (3, 15) and (regret >= 0).all()
    assert (np.diff(regret, axis=1) <= 1e-9).all()  # best-so-far regret never rises
    png = plot_regret({"RS": exp}, 91.61, tmp_path / "r.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_regret_plot_is_log_and_says_how_many_runs(tmp_path):
    from arch2vec import benchmarks, search
    from arch2vec.analysis.plots import curves_figure, pyplot, regret_curves

    bench = benchmarks.load("nb201", "cifar10")
    search.run("random", bench, runs=2, budget_queries=30, out_dir=tmp_path / "rs", seed=5)
    # a search that finds the optimum at once: its mean regret reaches zero
    hit = tmp_path / "hit"
    search.run("random", bench, runs=1, budget_queries=1, out_dir=hit, seed=0)
    row = json.loads((hit / "runs.jsonl").read_text())
    row["best_valid"] = [bench.best_valid]
    (hit / "runs.jsonl").write_text(json.dumps(row) + "\n")
    curves = regret_curves({"RS": tmp_path / "rs", "lucky": hit}, bench.best_valid)
    assert list(curves) == ["RS (2 runs)", "lucky (1 run)"]
    x, mean, low, high = curves["RS (2 runs)"]
    assert list(x) == list(range(1, 31)) and (low <= mean).all() and (mean <= high).all()
    fig = curves_figure(curves, "queries", "regret", logy=True)
    try:
        ax = fig.axes[0]
        assert ax.get_yscale() == "log"  # zeros do not switch the axis back to linear
        assert [t.get_text() for t in ax.get_legend().get_texts()] == list(curves)
        assert any("reached zero regret" in t.get_text() for t in ax.texts)
        # bands only where their line is drawn, their edges above zero: no wedge down to a
        # masked point (the lucky run's mean is zero: no band at all)
        paths = [c.get_paths() for c in ax.collections]
        assert len(paths) == 2 and paths[1] == [] or all(len(p.vertices) == 0 for p in paths[1])
        ys = np.concatenate([p.vertices[:, 1] for p in paths[0]])
        assert ys.size and (ys > 0).all()
    finally:
        pyplot().close(fig)


def test_table2_markdown_says_subset():
    from arch2vec.analysis.reproduce import table2_markdown

    row = {
        "strategy": "arch2vec-bo",
        "benchmark": "nb101-30k",
        "runs": 3,
        "queries_mean": 356.0,
        "valid_accuracy_mean": 94.89,
        "valid_accuracy_std": 0.02,
        "test_accuracy_mean": None,
        "final_regret_mean": 0.025,
    }
    text = table2_markdown([row])
    assert "subset of the 423,624" in text
    assert "| arch2vec-BO (3 runs) | 356 | 94.89 ± 0.02 | n/a | 0.025 | 400, 94.05 |" in text


def test_paired_comparison_by_hand(tmp_path):
    """Two strategies, four runs each, accuracies written by hand: the reference is the best
    other strategy, differences pair by run, queries to the optimum count from one."""
    from arch2vec import benchmarks, search
    from arch2vec.analysis import paired

    bench = benchmarks.load("nb201", "cifar10")
    top = bench.best_valid  # 91.6067 (the embedded table's 200-epoch validation optimum)
    finals = {"a": [91.0, top, top, 90.0], "b": [90.5, 91.0, top, 89.0]}
    for name, values in finals.items():
        search.run("random", bench, runs=4, budget_queries=3, out_dir=tmp_path / name)
        lines = []
        for run, row in sorted(search.record.read_runs(tmp_path / name).items()):
            v = values[run]
            # the optimum is reached at the third query, or never
            row["best_valid"] = [v - 1, v - 0.5, v] if v == top else [v, v, v]
            lines.append(json.dumps(row))
        (tmp_path / name / "runs.jsonl").write_text("\n".join(lines) + "\n")
    table = paired.compare({"a": tmp_path / "a", "b": tmp_path / "b"}, focus="a")
    assert table["reference"] == "b" and table["optimum"] == top
    a, b = table["rows"]
    assert a["valid_mean"] == pytest.approx(np.mean(finals["a"]), abs=1e-4)
    assert a["valid_std"] == pytest.approx(np.std(finals["a"]), abs=1e-4)
    assert a["valid_se"] == pytest.approx(np.std(finals["a"], ddof=1) / 2, abs=1e-4)
    assert a["diff_vs_reference"] == pytest.approx((0.5 + (top - 91) + 0 + 1) / 4, abs=1e-4)
    # Wilcoxon on the non-zero differences 0.5, 0.61, 1.0 (all positive): exact p = 2 / 2**3
    assert a["p_vs_reference"] == pytest.approx(0.25)
    rewards = [r["best_reward"][-1] for r in search.record.read_runs(tmp_path / "a").values()]
    assert a["search_mean"] == pytest.approx(np.mean(rewards), abs=1e-4)  # left as searched
    assert a["found"] == 0.5 and a["median_queries_to_optimum"] is None  # inf in the median
    assert b["found"] == 0.25 and b["p_vs_reference"] is None
    # a strategy run on fewer seeds pairs on those but is not the reference, however good
    search.run("random", bench, runs=2, budget_queries=3, out_dir=tmp_path / "c")
    rows = search.record.read_runs(tmp_path / "c")
    for row in rows.values():
        row["best_valid"] = [top, top, top - 0.5]  # held the optimum, then chose another cell
    (tmp_path / "c" / "runs.jsonl").write_text("\n".join(map(json.dumps, rows.values())) + "\n")
    three = paired.compare({"a": tmp_path / "a", "b": tmp_path / "b", "c": tmp_path / "c"}, "a")
    c = three["rows"][2]
    assert three["reference"] == "b" and c["paired_runs"] == 2 and c["found"] == 0.0
    assert c["diff_vs_reference"] == pytest.approx(
        (top - 0.5 - 90.5 + top - 0.5 - 91) / 2, abs=1e-4
    )
    text = paired.markdown(table, {"a": "A", "b": "B"})
    assert "| A | 4 | 91.053 ± 0.657 | 0.379 | " in text and "| reference |" in text
    assert "| 50.0 % | not reached | +0.527 (0.25) |" in text
    # lists of directories pool into one row, the i-th of each name pairing with each other
    # (one directory per pre-training seed): the same differences twice, exact p = 2 / 2**6
    pooled = paired.compare({"a": [tmp_path / "a"] * 2, "b": [tmp_path / "b"] * 2}, "a")
    a2 = pooled["rows"][0]
    assert a2["runs"] == 8 and a2["paired_runs"] == 8 and a2["valid_mean"] == a["valid_mean"]
    assert a2["diff_vs_reference"] == a["diff_vs_reference"]
    assert a2["p_vs_reference"] == pytest.approx(2 / 2**6)
    crossed = paired.compare(
        {"a": [tmp_path / "a", tmp_path / "b"], "b": [tmp_path / "b", tmp_path / "a"]}, "a"
    )
    assert crossed["rows"][0]["diff_vs_reference"] == pytest.approx(0, abs=1e-9)
    with pytest.raises(ValueError, match="no experiment directory for 'a'"):
        paired.compare({"a": [], "b": tmp_path / "b"})


def test_paired_section_waits_for_strategies_without_a_finished_run(tmp_path):
    """A strategy folder another process has just started (config, no finished run) is named
    in the section, not an error that loses the table."""
    from arch2vec import benchmarks, search
    from arch2vec.analysis.reproduce import paired_section

    bench = benchmarks.load("nb201", "cifar10")
    search.run("random", bench, runs=2, budget_queries=3, out_dir=tmp_path / "x-random")
    search.run("evolution", bench, runs=2, budget_queries=3, out_dir=tmp_path / "x-bohb")
    (tmp_path / "x-bohb" / "runs.jsonl").write_text("")  # started, nothing finished
    text, table = paired_section(tmp_path, "x-", "T")
    assert "BOHB: no finished run yet" in text
    assert [row["name"] for row in table["rows"]] == ["random"]
