"""Progress where output is not a terminal: log lines at an interval, through ``logging``."""

from __future__ import annotations

import logging
import re

import pytest

from arch2vec import spaces
from arch2vec.cli import main
from arch2vec.progress import Progress

LINE = re.compile(r"^\d\d:\d\d:\d\d arch2vec: ")


def test_log_lines_instead_of_a_bar(caplog):
    caplog.set_level(logging.INFO, logger="arch2vec")
    with Progress(total=40, desc="work", unit="query", every=0) as bar:
        for _ in range(4):
            bar.update(10)
        bar.note(best="0.91")
    lines = [r.getMessage() for r in caplog.records if r.name == "arch2vec.progress"]
    assert lines[0].startswith("work: 10/40 queries (25%)")
    assert lines[3].startswith("work: 40/40 queries (100%)")
    assert lines[-1].startswith("work: done, 40/40 queries (100%)")
    assert lines[-1].endswith("best 0.91")
    assert len(lines) == 5


def test_failed_work_ends_without_a_done_line(caplog):
    caplog.set_level(logging.INFO, logger="arch2vec")
    with pytest.raises(OSError), Progress(total=9, desc="export", unit="cell", every=0) as bar:
        bar.update(3)
        raise OSError("disk full")
    lines = [r.getMessage() for r in caplog.records if r.name == "arch2vec.progress"]
    assert len(lines) == 1 and lines[0].startswith("export: 3/9 cells (33%)")


def test_log_lines_are_spaced_by_the_interval(caplog):
    caplog.set_level(logging.INFO, logger="arch2vec")
    with Progress(total=None, desc="steps", unit="step", every=3600) as bar:
        bar.update(5)
        bar.set(9)
    assert not [r for r in caplog.records if r.name == "arch2vec.progress"]  # too quick


def test_disabled_or_quiet_progress_says_nothing(caplog):
    caplog.set_level(logging.INFO, logger="arch2vec")
    with Progress(total=3, desc="off", enabled=False, every=0) as bar:
        bar.update(3)
    logging.getLogger("arch2vec").setLevel(logging.WARNING)
    try:
        with Progress(total=3, desc="quiet", every=0) as bar:
            bar.update(3)
    finally:
        logging.getLogger("arch2vec").setLevel(logging.NOTSET)
    assert not [r for r in caplog.records if r.name == "arch2vec.progress"]


@pytest.fixture
def search_args(tmp_path):
    return [
        "search",
        "--benchmark",
        "nb201",
        "--strategy",
        "random",
        "--runs",
        "3",
        "--budget-queries",
        "40",
        "--out",
        str(tmp_path / "out"),
    ]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_search_logs_queries_when_piped(search_args, workers, capsys, monkeypatch):
    monkeypatch.setenv("ARCH2VEC_LOG_EVERY", "0")
    assert main([*search_args, "--workers", workers, "--seed", "3"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err and all(LINE.match(line) for line in err), err
    assert err[-1].split("arch2vec: ")[1].startswith("random: 3 runs: done, 120/120 queries")
    assert err[-1].endswith("runs 3/3")
    counts = [int(m) for line in err for m in re.findall(r" (\d+)/120 queries", line)]
    assert counts == sorted(counts)  # the count only grows


def test_quiet_and_verbose(search_args, capsys, monkeypatch):
    monkeypatch.setenv("ARCH2VEC_LOG_EVERY", "0")
    assert main([*search_args, "--workers", "1", "-q"]) == 0
    assert capsys.readouterr().err == ""
    assert main([*search_args, "--workers", "1", "--resume", "--verbose"]) == 0
    err = capsys.readouterr().err
    assert "resuming, 3 of 3 runs already done" in err
    assert "0 run(s) of random on nb201; runs in this process" in err  # a debug line
    assert main([*search_args, "--workers", "1", "--resume"]) == 0
    err = capsys.readouterr().err
    assert "resuming" in err and "run(s) of random" not in err
    assert logging.getLogger("arch2vec").level == logging.NOTSET  # left as it was
    with pytest.raises(SystemExit) as exit:
        main([*search_args[:-2], "--out", search_args[-1] + "2", "--quiet", "-v"])
    assert exit.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_space_build_counts_the_cells_it_hashes(tmp_path, capsys, monkeypatch):
    spec = spaces.example_spec("nb201")
    monkeypatch.setenv("ARCH2VEC_LOG_EVERY", "0")
    assert main(["space", "build", str(spec), "--data-dir", str(tmp_path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert (
        err[-1]
        .split("arch2vec: ")[1]
        .startswith("hash 15,625 cells: done, 15,625/15,625 cells (100%)")
    )
    assert main(["space", "build", str(spec), "--data-dir", str(tmp_path)]) == 0
    assert "hash" not in capsys.readouterr().err  # cached: nothing to hash


def test_no_time_left_until_enough_is_done(caplog):
    caplog.set_level(logging.INFO, logger="arch2vec")
    with Progress(total=10_000, desc="search", unit="query", every=0) as bar:
        bar.update(1)  # one query of 10,000: no guess at the time left
        bar.update(199)  # 2 %: now it is measured
    lines = [r.getMessage() for r in caplog.records if r.name == "arch2vec.progress"]
    assert lines[0].startswith("search: 1/10,000 queries") and "left" not in lines[0]
    assert "left" in lines[1]
