"""Corrupt records are named (issue 19): every skipped line of a record prints one warning naming
the file and the line, and the report computes what it shows -- the best cell included -- from
the runs it kept, never from a ``summary.json`` of other runs."""

from __future__ import annotations

import json

import pytest

from arch2vec import spaces
from arch2vec.cli import main
from arch2vec.search import record

SEARCH = ["search", "--strategy", "random", "--budget-queries", "30", "--runs", "4"]


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    out = tmp_path_factory.mktemp("rec") / "exp"
    assert main([*SEARCH, "--out", str(out), "-q"]) == 0
    return out


def _copy(src, dst):
    dst.mkdir()
    for name in (record.CONFIG, record.RUNS, record.SUMMARY):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


def _report(exp, out, capsys):
    assert main(["report", str(exp), "--out", str(out), "--format", "markdown"]) == 0
    err = capsys.readouterr().err
    groups = json.loads((out / "report.json").read_text())["groups"]
    return err, groups[0]["experiments"][0]["summary"]


def test_a_malformed_run_line_is_named_and_the_best_cell_comes_from_the_runs_kept(
    experiment, tmp_path, capsys
):
    exp = _copy(experiment, tmp_path / "exp")
    rows = record.read_runs(exp)
    summary = json.loads((exp / record.SUMMARY).read_text())
    best_run = summary["best"]["run"]
    lines = (exp / record.RUNS).read_text().splitlines()
    number = next(k for k, line in enumerate(lines) if json.loads(line)["run"] == best_run)
    lines[number] = lines[number][: len(lines[number]) // 2]  # cut, as by a kill or an edit
    (exp / record.RUNS).write_text("\n".join(lines) + "\n")

    err, shown = _report(exp, tmp_path / "report", capsys)
    assert f"{exp / record.RUNS} line {number + 1}: skipped, not a search run" in err
    assert f"{exp / record.SUMMARY}: describes other runs than the 3 kept" in err
    kept = [rows[k] for k in sorted(rows) if k != best_run]
    best = record.summarise(kept, json.loads((exp / record.CONFIG).read_text())["config"])
    assert shown["runs"] == 3 and best["best"]["index"] != summary["best"]["index"]
    assert shown["best_cell"] == spaces.get("nb201").native(best["best"]["index"])
    assert shown["wall_seconds"] is None  # the summary's wall time was of other runs


def test_a_corrupt_summary_is_named_and_the_report_still_names_the_best_cell(
    experiment, tmp_path, capsys
):
    exp = _copy(experiment, tmp_path / "exp")
    best = json.loads((exp / record.SUMMARY).read_text())["best"]
    (exp / record.SUMMARY).write_text("{not json")
    err, shown = _report(exp, tmp_path / "report", capsys)
    assert f"{exp / record.SUMMARY}: not valid JSON; ignored" in err
    assert shown["best_cell"] == best["arch_str"] and shown["runs"] == 4


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("[1, 2]", "not a JSON object but list"),
        ('{"run": 1}', "no 'index'"),
        ("{garbage", "not valid JSON"),
    ],
)
def test_resume_warns_of_each_line_it_drops_and_redoes_the_run(
    experiment, tmp_path, capsys, line, why
):
    exp = _copy(experiment, tmp_path / "exp")
    lines = (exp / record.RUNS).read_text().splitlines()
    keep = [json.loads(x) for x in lines if json.loads(x)["run"] != 2]
    (exp / record.RUNS).write_text("".join(json.dumps(r) + "\n" for r in keep) + line + "\n")
    assert main([*SEARCH, "--out", str(exp), "--resume", "-q"]) == 0
    err = capsys.readouterr().err
    assert f"{exp / record.RUNS} line 4: skipped, not a search run ({why})" in err
    redone = record.read_runs(exp)[2]
    assert redone["index"] == record.read_runs(experiment)[2]["index"]


def test_a_journal_line_with_a_bad_query_number_is_named(tmp_path, caplog):
    from arch2vec.search.record import Journal

    path = tmp_path / "run_0000.jsonl"
    path.write_text('{"query": 0, "index": 5}\n{"query": "x", "index": 6}\n')
    journal = Journal(path)
    assert list(journal.recorded) == [0]
    assert f"{path} line 2: skipped, not a recorded evaluation" in caplog.text
