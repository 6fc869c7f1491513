"""The experiment layer as built: short functions, shared discrete pieces in one module, and a
configuration that records every parameter (defaults included) while older records resume."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from arch2vec import benchmarks, search
from arch2vec.search.evolution import RegularizedEvolution
from arch2vec.search.plan import plan

SEARCH = Path(__file__).resolve().parents[1] / "src" / "arch2vec" / "search"


def test_no_function_in_search_is_over_100_lines():
    long = [
        f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in sorted(SEARCH.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > 100
    ]
    assert long == []


@pytest.mark.parametrize("module", ["random", "evolution", "reinforce", "bohb", "local_bo"])
def test_discrete_strategies_import_the_base_and_discrete_not_each_other(module):
    allowed = {"base", "discrete", "budget", "bo"}  # arch2vec-LBO is an arch2vec-BO
    tree = ast.parse((SEARCH / f"{module}.py").read_text())
    imported = {
        node.module.rsplit(".", 1)[1]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("arch2vec.search.")
    }
    assert imported <= allowed, imported - allowed
    if module != "local_bo":
        assert "bo" not in imported


@pytest.fixture(scope="module")
def nb201():
    return benchmarks.load("nb201", "cifar10")


def test_config_records_every_parameter_with_its_default(nb201, tmp_path):
    p = plan("evolution", nb201, params={"population": 20}, budget_queries=10)
    assert p.params == {"population": 20, "sample": 10, "max_tries": 100}
    assert p.params == {**RegularizedEvolution.parameters(), "population": 20}
    search.run("evolution", nb201, params={"population": 20}, budget_queries=10, out_dir=tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())["config"]
    assert saved["params"] == {"population": 20, "sample": 10, "max_tries": 100}


def test_an_older_config_with_only_the_given_parameters_resumes(nb201, tmp_path):
    options = dict(params={"population": 20}, budget_queries=10, out_dir=tmp_path)
    first = search.run("evolution", nb201, runs=2, **options)
    path = tmp_path / "config.json"
    record = json.loads(path.read_text())
    record["config"]["params"] = {"population": 20}  # as written before defaults were kept
    path.write_text(json.dumps(record))
    more = search.run("evolution", nb201, runs=3, resume=True, **options)
    assert more.runs[:2] == first.runs and len(more.runs) == 3
    # a default that differs from what the older record ran with is another experiment
    other = {**options, "params": {"population": 20, "sample": 3}}
    with pytest.raises(ValueError, match=r"other settings \(params\)"):
        search.run("evolution", nb201, runs=3, resume=True, **other)


@pytest.mark.parametrize(
    "strategy, params, message",
    [
        ("arch2vec-bo", {"max_scored": "abc"}, "parameter max_scored must be an integer"),
        ("arch2vec-bo", {"activation": "foo"}, "parameter activation must be 'relu' or 'tanh'"),
        ("arch2vec-bo", {"log_bounds": [1]}, "parameter log_bounds must hold 2 numbers, got 1"),
        ("arch2vec-bo", {"log_bounds": [5, 1]}, r"parameter log_bounds must increase"),
        ("arch2vec-bo", {"log_bounds": [0, "x"]}, r"parameter log_bounds\[1\] must be a number"),
        ("arch2vec-rl", {"feed": "zz"}, "parameter feed must be 'action' or 'cell', got 'zz'"),
        ("supervised-bo", {"gin_hidden": [64, 0]}, r"parameter gin_hidden\[1\] must be"),
        ("arch2vec-lbo", {"fidelities": "epoch12"}, "parameter fidelities must be a list"),
        ("bohb", {"fidelities": [12]}, r"parameter fidelities\[0\] must be a name, got 12"),
    ],
)
def test_declared_parameters_are_checked_one_per_message(strategy, params, message):
    from arch2vec.search.base import check_params

    cls = search.get(strategy)
    with pytest.raises(ValueError, match=message) as e:
        check_params(cls, params)
    assert "\n" not in str(e.value) and str(e.value).startswith(f"strategy {strategy}: ")
    # building one from Python gives the same error, before the strategy reads its parameters
    with pytest.raises(ValueError, match=message):
        cls("nb201", embeddings=np.zeros((15_625, 2)), **params)


def test_tell_refuses_what_does_not_fit_in_one_line():
    rs = search.RandomSearch("nb201", seed=0)
    idx = rs.ask()
    for indices, rewards, message in [
        (idx, [1.0, 2.0], r"2 reward\(s\) for 1 index\(es\); expected one per index"),
        ([15_625], [1.0], r"index 15625 is outside the pool \[0, 15625\)"),
        ([-1], [1.0], "index -1 is outside the pool"),
        ([0.5], [1.0], "indices must be a 1-D array of pool indices"),
        (idx, ["a lot"], "rewards must be numbers"),
    ]:
        with pytest.raises(ValueError, match=message) as e:
            rs.tell(np.asarray(indices), rewards)
        assert "\n" not in str(e.value)
    rs.tell(idx, [float("nan")])  # a failure is a NaN reward, not an error
    rs.tell(np.array([], dtype=np.int64), [])


def test_strategies_take_embeddings_from_a_file_as_search_run_does(tmp_path):
    from arch2vec.models.embeddings import Embeddings
    from arch2vec.spaces import get

    space = get("nb201")
    vectors = np.random.default_rng(0).normal(size=(15_625, 4))
    Embeddings.of_space(space, vectors).save(tmp_path / "e.npz")
    by_path = search.ArchBO(space, embeddings=tmp_path / "e.npz", seed=3)
    by_array = search.ArchBO(space, embeddings=Embeddings.read(tmp_path / "e.npz"), seed=3)
    assert np.array_equal(by_path.problem.features, by_array.problem.features)
    assert [by_path.ask().tolist() for _ in range(3)] == [by_array.ask().tolist() for _ in range(3)]
    with pytest.raises(ValueError, match="no such pre-training run or embeddings file"):
        search.ArchBO(space, embeddings=str(tmp_path / "missing.npz"))


def test_reproduce_reads_needs_embeddings_from_the_strategy_class():
    from arch2vec.analysis.reproduce import _needs_embeddings

    assert _needs_embeddings("arch2vec-lbo") and _needs_embeddings("arch2vec-rl")
    assert not _needs_embeddings("supervised-bo") and not _needs_embeddings("bohb")

    class Latent(search.RandomSearch):  # a plugin that searches the embeddings, any name
        name = "latent-plugin"
        needs_embeddings = True

    search.register("latent-plugin", Latent)
    try:
        assert _needs_embeddings("latent-plugin")
    finally:
        search.STRATEGIES.unregister("latent-plugin")


def test_plugin_evaluators_take_options_from_the_command(tmp_path, capsys):
    from arch2vec import evaluators
    from arch2vec.cli import main

    def by_dataset(dataset: str = "cifar10", shift: float = 0.0):
        return evaluators.from_benchmark("nb201", dataset)

    evaluators.register("nb201-by-option", by_dataset)
    try:
        argv = ["search", "--evaluator", "nb201-by-option", "--strategy", "random"]
        argv += ["--runs", "1", "--budget-queries", "5", "--json", "--out"]
        assert main([*argv, str(tmp_path / "a"), "--evaluator-option", "dataset=cifar100"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["dataset"] == "cifar100"
        config = json.loads((tmp_path / "a" / "config.json").read_text())["config"]
        assert config["evaluator"]["dataset"] == "cifar100"
        assert main([*argv, str(tmp_path / "b"), "--evaluator-option", "bogus=1"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            "arch2vec: error: evaluator nb201-by-option has no option 'bogus' "
            "(it takes: dataset, shift)"
        ]
        assert main([*argv[:-1], "--out", str(tmp_path / "c"), "--evaluator-option", "x"]) == 2
        assert "expected KEY=VALUE" in capsys.readouterr().err
    finally:
        evaluators.EVALUATORS.unregister("nb201-by-option")
    table = ["search", "--strategy", "random", "--runs", "1", "--budget-queries", "5"]
    table += ["--evaluator-option", "dataset=cifar100", "--out", str(tmp_path / "d")]
    assert main(table) == 2
    assert "--evaluator-option is for an --evaluator" in capsys.readouterr().err


def test_analyses_take_a_loaded_benchmark_as_search_run_does(tmp_path):
    from arch2vec.analysis.smoothness import smoothness_of_run
    from arch2vec.models.embeddings import Embeddings
    from arch2vec.spaces import get

    space = get("nb201")
    vectors = np.random.default_rng(1).normal(size=(15_625, 3))
    Embeddings.of_space(space, vectors).save(tmp_path / "e.npz")
    options = dict(train_size=8, walk_length=3, nn_starts=2, nn_steps=3, seed=0)
    by_name = smoothness_of_run(tmp_path / "e.npz", tmp_path / "a", benchmark="nb201", **options)
    bench = benchmarks.load("nb201", "cifar10")
    loaded = smoothness_of_run(tmp_path / "e.npz", tmp_path / "b", benchmark=bench, **options)
    assert json.dumps(by_name["embeddings"], sort_keys=True) == json.dumps(
        loaded["embeddings"], sort_keys=True
    )
    with pytest.raises(ValueError, match="is loaded already: it takes no dataset"):
        benchmarks.load(bench, "cifar100")


def test_a_random_start_as_long_as_the_budget_is_said(nb201, caplog):
    import logging

    caplog.set_level(logging.WARNING, logger="arch2vec")
    plan("evolution", nb201, budget_queries=20)  # population 50: random search
    plan("arch2vec-bo", nb201, embeddings=np.zeros((15_625, 2)), budget_queries=16)  # init 16
    plan("evolution", nb201, params={"population": 10}, budget_queries=20)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2
    assert said[0].startswith("strategy evolution: population=50 random cells come before")
    assert "budget is 20 queries: every query is a random cell" in said[0]
    assert said[1].startswith("strategy arch2vec-bo: init=16 random cells")
