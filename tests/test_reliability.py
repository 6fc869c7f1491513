"""Reliability (issue 13): one owner per directory, kills at random moments and during writes,
no orphan processes, no temporary files left, loud failures.

``ARCH2VEC_KILLS`` (default 5, to keep ``make test`` short; docs/reliability.md's figures are of 10)
sets how many times each kill test kills its process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch

from arch2vec import benchmarks, io, search, spaces
from arch2vec.cli import main
from arch2vec.evaluators.base import Evaluator

KILLS = int(os.environ.get("ARCH2VEC_KILLS", "5"))
CLI = [sys.executable, "-m", "arch2vec.cli"]


def marked_env(mark: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "ARCH2VEC_TEST_MARK": mark, **extra}


def marked_processes(mark: str) -> list[int]:
    """PIDs of live processes started with ``ARCH2VEC_TEST_MARK=mark`` in their environment."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            env = (proc / "environ").read_bytes()
            state = (proc / "stat").read_text().split()[2]
        except OSError:
            continue
        if f"ARCH2VEC_TEST_MARK={mark}".encode() in env and state != "Z":
            found.append(int(proc.name))
    return found


def wait_gone(mark: str, seconds: float = 15.0) -> list[int]:
    deadline = time.time() + seconds
    while time.time() < deadline:
        left = marked_processes(mark)
        if not left:
            return []
        time.sleep(0.2)
    return marked_processes(mark)


def temps(folder: Path) -> list[Path]:
    return list(folder.rglob(f".*{io.TEMP_SUFFIX}"))


# --------------------------------------------------------------------------- one owner


def test_a_directory_has_one_owner(tmp_path):
    bench = benchmarks.load("nb201", "cifar10")
    out = tmp_path / "exp"
    with io.DirectoryLock(out, "experiment directory"):
        with pytest.raises(ValueError, match=rf"in use by process {os.getpid()}"):
            search.run("random", bench, budget_queries=5, out_dir=out)
        assert not (out / "config.json").exists()
    search.run("random", bench, budget_queries=5, out_dir=out)  # released: usable again
    assert (out / "runs.jsonl").is_file()


@pytest.mark.slow
def test_two_searches_on_one_directory_at_once(tmp_path):
    """The second of two concurrent searches (resuming or not) is refused and writes nothing:
    runs.jsonl holds each run once."""
    out = tmp_path / "exp"
    argv = [*CLI, "search", "--strategy", "random", "--runs", "300", "--budget-queries", "400"]
    argv += ["--workers", "1", "--out", str(out), "--json"]
    first = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (out / "runs.jsonl").is_file() and time.time() < deadline:
        time.sleep(0.05)
    second = subprocess.run([*argv, "--resume"], capture_output=True, text=True, timeout=120)
    assert second.returncode == 2, second.stderr
    assert f"in use by process {first.pid}" in second.stderr
    assert second.stderr.count("arch2vec: error:") == 1
    assert first.wait(timeout=300) == 0, first.stderr.read()
    rows = [json.loads(x) for x in (out / "runs.jsonl").read_text().splitlines()]
    assert sorted(r["run"] for r in rows) == list(range(300))


def test_a_second_space_build_waits_for_the_first(tmp_path):
    """Two processes building one cache: the second waits for the lock, then loads."""
    spec = spaces.example_spec("nb201")
    from arch2vec.spaces import spec as specs

    space = specs.load_space(spec, data_dir=tmp_path)
    lock = space.cache_path.with_name(space.cache_path.name + ".lock")
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with io.file_lock(lock):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    argv = [*CLI, "space", "build", str(spec), "--data-dir", str(tmp_path), "--json"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    assert proc.poll() is None  # waiting for the lock
    release.set()
    holder.join()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out)["num_cells"] == 15_625


# --------------------------------------------------------------------------- loud failures


class Failing(Evaluator):
    name, space = "failing", "nb201"

    def evaluate(self, cells, *, indices=None, fidelity=None):
        raise OSError("the training data are gone")


def test_a_search_where_every_evaluation_fails_is_an_error(tmp_path, capsys):
    with pytest.raises(RuntimeError, match="every evaluation failed .* the training data"):
        search.run("random", Failing(), runs=2, budget_queries=3, out_dir=tmp_path / "s")
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())  # the record is kept
    assert summary["failures"] == 6 and summary["best"] is None


def test_training_that_diverges_is_an_error(tmp_path, capsys):
    argv = ["pretrain", "--space", "nb201", "--epochs", "1", "--batch-size", "512"]
    argv += ["--lr", "10", "--out", str(tmp_path / "r")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("arch2vec: error:") == 1 and "training diverged in epoch 1" in err
    assert "NaN" not in (tmp_path / "r" / "config.json").read_text()


def test_stale_temporary_files_are_removed_by_the_next_owner(tmp_path):
    out = tmp_path / "exp"
    bench = benchmarks.load("nb201", "cifar10")
    search.run("random", bench, budget_queries=5, out_dir=out)
    stale = out / ".summary.json.abc123.tmp"
    stale.write_text("half a file")
    search.run("random", bench, budget_queries=5, out_dir=out, resume=True)
    assert not stale.exists() and not temps(out)


# --------------------------------------------------------------------------- kills


def pretrain_argv(out: Path) -> list[str]:
    return [*CLI, "pretrain", "--space", "nb201", "--epochs", "2", "--batch-size", "1024"] + [
        "--threads",
        "1",
        "--out",
        str(out),
        "--json",
    ]


def run_until_done(argv: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{what}: {done.stderr}"


def kill_at_random(argv: list[str], env: dict[str, str], rng, longest: float) -> bool:
    """Start ``argv``, SIGKILL it after a random moment (or let it finish); True if killed."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=float(rng.uniform(0.5, longest)))
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


@pytest.mark.slow
def test_pretraining_survives_kills(tmp_path):
    """Killed at random moments and inside checkpoint writes, pre-training resumes to the very
    model of an uninterrupted run, leaving no process and no temporary file behind."""
    mark = uuid.uuid4().hex
    env = marked_env(mark)
    full = tmp_path / "full"
    run_until_done(pretrain_argv(full), env, "uninterrupted")
    rng = np.random.default_rng(13)
    out = tmp_path / "killed"
    kills = 0
    for k in range(KILLS):
        argv = pretrain_argv(out) + (["--resume"] if (out / "config.json").exists() else [])
        if k % 2:  # inside an atomic write: config, checkpoint or metrics
            kenv = marked_env(mark, ARCH2VEC_KILL_AT_WRITE=str(int(rng.integers(1, 4))))
            done = subprocess.run(argv, env=kenv, capture_output=True, timeout=600)
            kills += done.returncode == -signal.SIGKILL
        else:
            kills += kill_at_random(argv, env, rng, 4.0)
        assert not wait_gone(mark), "a process outlived the kill"
    run_until_done(pretrain_argv(out) + ["--resume"], env, "resumed")
    a = torch.load(full / "checkpoint.pt", weights_only=True)
    b = torch.load(out / "checkpoint.pt", weights_only=True)
    assert a["epoch"] == b["epoch"] == 2
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert not temps(out) and kills >= KILLS // 2
    assert not wait_gone(mark)
    print(f"pre-training: killed {kills} times of {KILLS} tries, resumed identical, no orphan")


def search_argv(out: Path) -> list[str]:
    argv = [*CLI, "search", "--strategy", "evolution", "--runs", "200", "--budget-queries", "150"]
    return argv + ["--workers", "2", "--out", str(out), "--json"]


@pytest.mark.slow
def test_a_two_worker_search_survives_kills(tmp_path):
    """Killed at random moments, a search in two worker processes resumes to exactly the runs of
    an uninterrupted one, each run once; its workers die with it."""
    mark = uuid.uuid4().hex
    env = marked_env(mark)
    full = tmp_path / "full"
    run_until_done(search_argv(full), env, "uninterrupted")
    rng = np.random.default_rng(31)
    out = tmp_path / "killed"
    kills = 0
    for _ in range(KILLS):
        argv = search_argv(out) + (["--resume"] if (out / "config.json").exists() else [])
        kills += kill_at_random(argv, env, rng, 2.5)
        assert not wait_gone(mark), "a worker outlived its search"
    run_until_done(search_argv(out) + ["--resume"], env, "resumed")

    def runs(folder: Path) -> dict[int, str]:
        lines = (folder / "runs.jsonl").read_text().splitlines()
        rows = {json.loads(x)["run"]: x for x in lines}
        assert len(rows) == len(lines)  # each run once
        return rows

    assert runs(out) == runs(full)
    assert not temps(out) and kills >= KILLS // 2
    assert not wait_gone(mark)
    print(f"2-worker search: killed {kills} times of {KILLS} tries, resumed identical, no orphan")
