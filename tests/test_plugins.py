"""Registries and plugins: a third-party package adds a space, a benchmark and a strategy through
the ``arch2vec.plugins`` entry-point group, and the plain ``arch2vec`` command -- and the worker
processes a search starts -- use them.

The plugin is written into a temporary folder with its ``.dist-info`` (the entry point), which
``PYTHONPATH`` puts on the path of the command and of its workers, as an installed package is.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from arch2vec import registry, search, spaces
from arch2vec.benchmarks import BENCHMARKS
from arch2vec.spaces.nb201 import NB201Space

PLUGIN = '''
"""A toy arch2vec plugin: a 5-node chain space, a table over it, a strategy."""
import hashlib

import numpy as np

from arch2vec import benchmarks, search, spaces
from arch2vec.benchmarks import Benchmark, BenchmarkInfo
from arch2vec.search.random import RandomSearch
from arch2vec.spaces import Cells, SearchSpace

CHAIN = np.eye(5, k=1, dtype=np.uint8)


class Line5(SearchSpace):
    """input -> three op nodes (a, b or c each) -> output: 27 cells, pool index = base-3 ops."""

    name = "line5"
    num_nodes = 5
    ops = ("input", "a", "b", "c", "output")

    def all(self):
        digits = (np.arange(27)[:, None] // 3 ** np.arange(2, -1, -1)) % 3
        ops = np.concatenate([np.zeros((27, 1)), 1 + digits, np.full((27, 1), 4)], axis=1)
        return Cells(np.repeat(CHAIN[None], 27, axis=0), ops.astype(np.int8), self.name)

    def is_valid(self, cells):
        inner = cells.ops[:, 1:4]
        return (
            (cells.adjacency == CHAIN).all(axis=(1, 2))
            & (cells.ops[:, 0] == 0)
            & (cells.ops[:, 4] == 4)
            & ((inner >= 1) & (inner <= 3)).all(axis=1)
        )

    def hash(self, cells):
        ok = self.is_valid(cells)
        return np.array(
            [hashlib.md5(o.tobytes()).hexdigest() if v else "" for o, v in zip(cells.ops, ok)]
        )


class First(RandomSearch):
    """The unvisited candidate with the lowest pool index."""

    name = "plugin-first"

    def ask(self):
        left = [i for i in self.problem.candidates.tolist() if i not in self.visited]
        self.visited.update(left[:1])
        return np.asarray(left[:1], dtype=np.int64)


def load_toy(dataset, file, data_dir):
    reward = 50.0 + np.arange(27) % 7
    return Benchmark("line5-toy", "line5", dataset, reward, reward, reward, np.full(27, 10.0))


def register():
    spaces.register("line5", Line5)
    search.register("plugin-first", First)
    benchmarks.register(
        BenchmarkInfo("line5-toy", "line5", False, ("toy",), "a toy table", load_toy)
    )
'''


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugin")
    (root / "a2v_toy_plugin.py").write_text(textwrap.dedent(PLUGIN))
    dist = root / "a2v_toy_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: a2v-toy-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[arch2vec.plugins]\ntoy = a2v_toy_plugin:register\n")
    return root


def arch2vec(plugin_path, *argv):
    env = {
        **os.environ,
        "PYTHONPATH": f"{plugin_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "arch2vec.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_plugin_space_benchmark_and_strategy_from_the_plain_command(plugin_path, tmp_path):
    info = json.loads(arch2vec(plugin_path, "space", "info", "line5", "--json"))
    assert info["num_cells"] == 27 and info["ops"] == ["input", "a", "b", "c", "output"]
    names = [b["benchmark"] for b in json.loads(arch2vec(plugin_path, "bench", "list", "--json"))]
    assert "line5-toy" in names and "nb201" in names
    help_text = re.sub(r"-\s+", "-", arch2vec(plugin_path, "search", "--help"))  # unwrapped
    assert "plugin-first" in help_text
    # four runs in two worker processes: each worker finds the plugin space by its name
    out = tmp_path / "s"
    argv = ["search", "--benchmark", "line5-toy", "--strategy", "plugin-first", "--runs", "4"]
    argv += ["--budget-queries", "7", "--workers", "2", "--out", str(out), "--json"]
    summary = json.loads(arch2vec(plugin_path, *argv))
    assert summary["runs"] == 4 and summary["space"] == "line5"
    runs = [json.loads(x) for x in (out / "runs.jsonl").read_text().splitlines()]
    assert all(r["index"] == list(range(7)) for r in runs)  # lowest pool index first
    assert summary["valid_accuracy_mean"] == 56.0  # the best of cells 0..6: 50 + 6
    # pre-training and a search in its latent space, on the plugin space, with defaults
    run = tmp_path / "pre"
    argv = ["pretrain", "--space", "line5", "--epochs", "2", "--out", str(run), "--json"]
    assert json.loads(arch2vec(plugin_path, *argv))["epoch"] == 2
    argv = ["search", "--benchmark", "line5-toy", "--strategy", "arch2vec-bo", "--embeddings"]
    argv += [str(run), "--runs", "2", "--budget-queries", "20", "--out", str(tmp_path / "bo")]
    argv += ["--hyper", "init=4", "--json"]
    assert json.loads(arch2vec(plugin_path, *argv))["queries_mean"] == 20
    argv[argv.index("arch2vec-bo")] = "arch2vec-lbo"  # ours: its local turns on a plugin space
    argv[argv.index(str(tmp_path / "bo"))] = str(tmp_path / "lbo")
    assert json.loads(arch2vec(plugin_path, *argv))["queries_mean"] == 20


class Mine(NB201Space):
    name = "nb201-mine"


def test_registries_from_python(tmp_path):
    """Registered at run time (no plugin): usable by name here, and a search in processes sends
    the space itself to the workers."""
    spaces.register("nb201-mine", Mine)
    try:
        assert isinstance(spaces.get("nb201-mine"), Mine)
        assert not spaces.SPACES.shared("nb201-mine") and spaces.SPACES.shared("nb201")
        with pytest.raises(ValueError, match="already registered"):
            spaces.register("nb201-mine", Mine)
        with pytest.raises(ValueError, match="unknown space 'nope'"):
            spaces.get("nope")
        from arch2vec.benchmarks import Benchmark

        reward = np.arange(15_625, dtype=float) % 97
        bench = Benchmark("mine", "nb201-mine", "d", reward, reward, reward, np.ones(15_625))
        serial = search.run("random", bench, space=Mine(), runs=2, budget_queries=5)
        parallel = search.run("random", bench, space=Mine(), runs=2, budget_queries=5, workers=2)
        assert serial.runs == parallel.runs
    finally:
        spaces.SPACES.unregister("nb201-mine")
    assert "nb201-mine" not in spaces.SPACES
    assert registry.load_plugins() == []  # no broken plugin in this environment
    assert BENCHMARKS["nb201"].space == "nb201"


BROKEN = '''
"""A plugin whose dependency is missing."""
import a2v_missing_dependency  # noqa: F401


def register():
    pass
'''


@pytest.fixture(scope="module")
def broken_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken")
    (root / "a2v_broken_plugin.py").write_text(BROKEN)
    dist = root / "a2v_broken_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: a2v-broken-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[arch2vec.plugins]\nmine = a2v_broken_plugin:register\n"
    )
    return root


def _run(path, *argv):
    env = {**os.environ, "PYTHONPATH": f"{path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run(
        [sys.executable, "-m", "arch2vec.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_a_broken_plugin_is_named_not_silent(broken_path):
    """A plugin whose import fails gives one warning naming it and its error (its traceback with
    -v); the unknown-name error mentions it; everything else still works (issue 19)."""
    warning = (
        "plugin 'mine' (a2v_broken_plugin:register) failed to load: ModuleNotFoundError: "
        "No module named 'a2v_missing_dependency'"
    )
    proc = _run(broken_path, "space", "info", "nb201", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["num_cells"] == 15_625
    assert proc.stderr.count(warning) == 1 and "Traceback" not in proc.stderr, proc.stderr
    argv = [
        "search",
        "--strategy",
        "mine",
        "--budget-queries",
        "3",
        "--out",
        str(broken_path / "x"),
    ]
    proc = _run(broken_path, *argv)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("arch2vec: error:")]
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr
    assert "unknown strategy 'mine'" in errors[0] and "plugins that failed to load" in errors[0]
    assert "a2v_broken_plugin:register" in errors[0] and "Traceback" not in proc.stderr
    assert not (broken_path / "x").exists()
    proc = _run(broken_path, "space", "info", "nb201", "-v")
    assert proc.returncode == 0 and warning in proc.stderr
    assert "Traceback" in proc.stderr and "import a2v_missing_dependency" in proc.stderr
