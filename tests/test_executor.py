import json
import os
import sys
from pathlib import Path

import pytest

from arch2vec.executor import (
    RAY_MISSING,
    Failure,
    LocalExecutor,
    RayExecutor,
    make_executor,
)

# Module-level task functions: the process pool and Ray import them by name.


def square(x):
    return x * x


def task(item):
    """``(kind, value, marker_dir)``: "ok" returns value**2, "bad" always raises, "flaky" raises
    on its first attempt only, "crash" kills its worker process on its first attempt."""
    kind, value, marker_dir = item
    if kind == "bad":
        raise ValueError(f"bad item {value}\nsecond line")
    if kind in ("flaky", "crash"):
        marker = Path(marker_dir) / f"{kind}-{value}"
        if not marker.exists():
            marker.write_text("tried")
            if kind == "crash":
                os._exit(3)
            raise RuntimeError(f"flaky item {value}")
    return value * value


def items(tmp_path, kinds):
    return [(kind, v, str(tmp_path)) for v, kind in enumerate(kinds)]


def check_semantics(executor, tmp_path):
    kinds = ["ok", "bad", "flaky", "ok", "ok", "bad", "ok"]
    seen = []
    out = executor.map(task, items(tmp_path, kinds), on_result=lambda p, r: seen.append((p, r)))
    assert len(out) == len(kinds)
    for v, (kind, result) in enumerate(zip(kinds, out, strict=True)):
        if kind == "bad":
            assert result == Failure(f"ValueError: bad item {v} second line", executor.retries + 1)
        else:
            assert result == v * v
    assert sorted(seen, key=lambda pr: pr[0]) == list(enumerate(out))  # each item reported once
    assert executor.map(task, []) == []


def test_local_inline_retries_and_failures(tmp_path):
    ex = LocalExecutor(1, retries=2)
    assert ex.capacity == 1
    check_semantics(ex, tmp_path)
    order = []
    ex.map(square, range(5), on_result=lambda p, r: order.append(p))
    assert order == [0, 1, 2, 3, 4]  # inline: in order
    no_retry = LocalExecutor(1, retries=0).map(task, items(tmp_path / "x", ["flaky"]))
    assert isinstance(no_retry[0], Failure) and no_retry[0].attempts == 1


def test_local_pool_retries_failures_and_lost_workers(tmp_path):
    with LocalExecutor(2, retries=2) as ex:
        assert ex.capacity == 2
        check_semantics(ex, tmp_path)
        # a worker that dies breaks the pool: it is replaced and the lost items retried
        out = ex.map(task, items(tmp_path, ["ok", "crash", "ok", "ok"]))
        assert out == [0, 1, 4, 9]
        assert ex.map(square, range(20)) == [x * x for x in range(20)]


def test_local_pool_refuses_unpicklable_functions():
    with LocalExecutor(2) as ex, pytest.raises(ValueError, match="cannot send"):
        ex.map(lambda x: x, [1, 2])


def test_make_executor():
    assert isinstance(make_executor("local"), LocalExecutor)
    assert make_executor("local", workers=3).capacity == 3
    with pytest.raises(ValueError, match="unknown executor"):
        make_executor("slurm")
    with pytest.raises(ValueError, match="only for the ray"):
        make_executor("local", address="auto")
    with pytest.raises(ValueError, match="retries"):
        LocalExecutor(1, retries=-1)


def test_missing_ray_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(ImportError) as info:
        RayExecutor()
    assert str(info.value) == RAY_MISSING == "install the ray extra: pip install 'arch2vec[ray]'"
    with pytest.raises(ImportError, match="arch2vec\\[ray\\]"):
        make_executor("ray")


# ---------------------------------------------------------------------------------------------
# Ray: one local instance for this module (conftest's ray_instance)


def test_ray_retries_and_failures(ray_instance, tmp_path):
    ex = RayExecutor(retries=2)
    assert ex.capacity == 2
    check_semantics(ex, tmp_path)
    assert ex.map(square, range(10)) == [x * x for x in range(10)]
    ex.shutdown()  # it did not start Ray: Ray stays up
    assert ray_instance.is_initialized()
    once = RayExecutor(retries=0).map(task, items(tmp_path / "y", ["ok"]))
    assert once == [0]
    assert ex.map(lambda x: x + 1, [1, 2]) == [2, 3]  # cloudpickle: closures travel


def test_ray_task_resources_set_capacity(ray_instance):
    assert RayExecutor(num_cpus=2).capacity == 1
    assert RayExecutor(num_cpus=0.5).capacity == 4


def test_run_experiment_on_ray_equals_local(ray_instance, tmp_path):
    from arch2vec import benchmarks, search

    bench = benchmarks.load("nb201", "cifar10")

    def run_experiment(out, **kw):
        return search.run("random", bench, runs=4, budget_queries=20, out_dir=out, **kw).summary

    local = run_experiment(tmp_path / "local", workers=1)
    seen = []
    remote = run_experiment(
        tmp_path / "ray", executor="ray", on_run=lambda row: seen.append(row["run"])
    )
    assert sorted(seen) == [0, 1, 2, 3]

    def runs(d):
        rows = [json.loads(x) for x in (d / "runs.jsonl").read_text().splitlines()]
        return {r["run"]: r for r in rows}

    assert runs(tmp_path / "local") == runs(tmp_path / "ray")
    local.pop("wall_seconds"), remote.pop("wall_seconds")
    assert local == remote
    with pytest.raises(ValueError, match="unknown executor"):
        run_experiment(tmp_path / "x", executor="dask")
