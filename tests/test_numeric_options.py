"""Numbers have ranges and messages name them (issue 19): every numeric option of every command,
given a negative or an absurdly large value, is refused up front -- exit 2, one ``arch2vec:
error:`` line naming the parameter and the value, nothing started. The options are read from
the parser itself, so a new numeric option is covered (or this test fails until it has a base
command line below)."""

from __future__ import annotations

import argparse

import pytest

from arch2vec.cli import _leaves, build_parser, main

GENOTYPE = str([("sep_conv_3x3", 0), ("sep_conv_3x3", 1)] * 4)
SEARCH = ["search", "--strategy", "random", "--budget-queries", "5", "--runs", "1"]
BASE = {  # command -> argv in which everything but the option under test is valid
    "space build": ["space", "build", "darts"],
    "space info": ["space", "info", "darts"],
    "space export": ["space", "export", "darts", "--out", "{tmp}/x.jsonl"],
    "pretrain": ["pretrain", "--space", "darts", "--out", "{tmp}/p"],
    "evaluate": ["evaluate", "{run}"],
    "search": [*SEARCH, "--out", "{tmp}/s"],
    "analyze predictive": ["analyze", "predictive", "--embeddings", "{run}", "--benchmark"]
    + ["nb201", "--out", "{tmp}/a"],
    "analyze predictors": ["analyze", "predictors", "--benchmark", "nb201", "--out", "{tmp}/a"],
    "analyze smoothness": ["analyze", "smoothness", "--embeddings", "{run}", "--out", "{tmp}/a"],
    "analyze tsne": ["analyze", "tsne", "--embeddings", "{run}", "--benchmark", "nb201"]
    + ["--out", "{tmp}/a"],
    "reproduce": ["reproduce", "table1", "--spaces", "nb201", "--models", "arch2vec"]
    + ["--out", "{tmp}/r"],
    "demo": ["demo", "--out", "{tmp}/d"],
    "darts-eval": ["darts-eval", "--data", "{tmp}/nope", "--genotype", GENOTYPE],
}
TRAIN = ["--evaluator", "train", "--data", "{tmp}/nope"]
EXTRA = {  # (command, option) -> what the option needs to be read at all
    **{("search", o): TRAIN for o in ("--epochs", "--layers", "--channels", "--batch-size")},
    ("search", "--ei-target"): ["--strategy", "arch2vec-bo", "--embeddings", "{run}"],
}
TABLE3 = ["reproduce", "table3", "--file", "{tmp}/nope.csv", "--out", "{tmp}/r"]
OTHER_BASE = {  # (command, option) -> another command line altogether
    ("search", "--budget-seconds"): ["search", "--strategy", "random", "--out", "{tmp}/s"],
    ("reproduce", "--runs"): TABLE3,
    ("reproduce", "--workers"): TABLE3,
}
VALUES = ("-1", "1000000000000000")


def numeric_options() -> list[tuple[str, str, str]]:
    out = []
    for leaf in _leaves(build_parser()):
        command = leaf.prog.removeprefix("arch2vec ")
        for action in leaf._actions:
            if not action.option_strings or action.type in (None, str):
                continue
            if isinstance(action, argparse._HelpAction):
                continue
            out += [(command, action.option_strings[-1], v) for v in VALUES]
    return out


CASES = numeric_options()


def test_every_command_with_a_numeric_option_has_a_base_command_line():
    assert {c for c, _, _ in CASES} <= set(BASE)
    assert len(CASES) >= 90


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("num") / "run"
    argv = ["pretrain", "--space", "nb201", "--epochs", "1", "--batch-size", "512", "-q"]
    assert main([*argv, "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(("command", "option", "value"), CASES)
def test_a_number_out_of_range_is_refused_naming_the_parameter(
    command, option, value, run, tmp_path, capsys
):
    extra = EXTRA.get((command, option), [])
    base = OTHER_BASE.get((command, option), BASE[command])
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{run}", str(run)) for a in base + extra]
    try:
        code = main([*argv, option, value])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("arch2vec: error:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    name = option.lstrip("-").replace("-", "_")
    assert name in lines[0] or option in lines[0], lines[0]
    assert value in lines[0] or value.replace("-1", "- 1") in lines[0], lines[0]
    assert not any(tmp_path.iterdir()), "something was written"
