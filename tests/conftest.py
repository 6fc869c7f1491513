"""Shared test helpers: the ../shared reference data (skipped with a reason when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from arch2vec.search.base import Request, Strategy

# Tests run many tiny models: one thread avoids OpenMP spin-waiting when the machine is busy.
torch.set_num_threads(1)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` (several seconds each) run first: pytest-xdist's workers then end
    on short tests and finish together instead of waiting for one that started last."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def shared_file(relative: str) -> Path:
    """Path of a file under ../shared/data, or skip the test saying what is missing."""
    path = SHARED / relative
    if not path.is_file():
        pytest.skip(f"reference data {path} not present (only in the project's shared folder)")
    return path


@pytest.fixture(scope="session")
def nb101_1k() -> dict:
    return json.loads(shared_file("nb101/nb101_subset_1k.json").read_text())


@pytest.fixture(scope="session")
def nb101_space(tmp_path_factory):
    """The full NAS-Bench-101 space, enumerated once per test run into a temporary dir (shared
    by pytest-xdist's workers: the space's build lock lets one build while the others wait)."""
    import os

    from arch2vec.spaces.nb101 import NB101Space

    if os.environ.get("PYTEST_XDIST_WORKER"):  # the run's base temp dir, above each worker's
        folder = tmp_path_factory.getbasetemp().parent / "nb101-shared"
        folder.mkdir(exist_ok=True)
    else:
        folder = tmp_path_factory.mktemp("nb101")
    space = NB101Space(data_dir=folder)
    space.build()
    return space


def run_on(strategy, benchmark, seed=None, budget_seconds=None, budget_queries=None):
    """One run of ``strategy`` on a table ``benchmark`` through the search engine."""
    from arch2vec.evaluators.table import TableEvaluator
    from arch2vec.search import engine
    from arch2vec.search.budget import Budget

    evaluator = TableEvaluator(benchmark)
    return engine.run(strategy, evaluator, Budget(budget_seconds, budget_queries), seed=seed)


class Checked(Strategy):
    """Wraps a search strategy: every ask() must hold distinct, unvisited candidates."""

    def __init__(self, inner: Strategy) -> None:
        self.problem = inner.problem
        self.rng = inner.rng
        self.inner = inner
        self.asked: set[int] = set()
        self.candidates = set(inner.problem.candidates.tolist())

    def ask(self) -> np.ndarray | Request:
        answer = self.inner.ask()
        if isinstance(answer, Request):  # a lower-fidelity evaluation, not a proposal
            return answer
        got = np.asarray(answer).tolist()
        assert len(set(got)) == len(got), "ask() repeated a cell"
        assert not self.asked & set(got), "ask() proposed a visited cell"
        assert set(got) <= self.candidates, "ask() proposed a non-candidate"
        self.asked |= set(got)
        return np.asarray(got, dtype=np.int64)

    def tell(self, indices, rewards, fidelity=None) -> None:
        self.inner.tell(indices, rewards, fidelity=fidelity)


@pytest.fixture(scope="module")
def ray_instance(request):
    """A local Ray instance for one test module (skipped without the ray extra)."""
    import os
    import time

    ray = pytest.importorskip("ray")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    start = time.perf_counter()
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=200 * 2**20,
    )
    print(f"ray {ray.__version__} started in {time.perf_counter() - start:.1f} s")
    # Ray workers cannot import a test module by name: send its functions and classes by value
    ray.cloudpickle.register_pickle_by_value(request.module)
    yield ray
    ray.shutdown()
