import json
import subprocess
import sys

import pytest

from arch2vec.cli import main
from arch2vec.spaces import nb201


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_info_json_keys(capsys, tmp_path):
    code, out, _ = run(capsys, "space", "info", "nb201", "--json", "--data-dir", str(tmp_path))
    info = json.loads(out)
    assert code == 0
    assert info["space"] == "nb201" and info["num_cells"] == 15_625 and info["num_nodes"] == 8
    assert info["ops"] == list(nb201.OPS)


def test_build_darts_and_human_summary(capsys, tmp_path):
    argv = [
        "space",
        "build",
        "darts",
        "--samples",
        "500",
        "--seed",
        "3",
        "--data-dir",
        str(tmp_path),
    ]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "500" in out and (tmp_path / "darts_500_3.npz").is_file()
    code, out, _ = run(
        capsys,
        "space",
        "info",
        "darts",
        "--samples",
        "500",
        "--seed",
        "3",
        "--data-dir",
        str(tmp_path),
        "--json",
    )
    assert json.loads(out)["num_cells"] == 500


def test_export_nb201(capsys, tmp_path):
    out_file = tmp_path / "nb201.jsonl"
    code, _, err = run(capsys, "space", "export", "nb201", "--out", str(out_file))
    assert code == 0 and "15,625" in err
    lines = out_file.read_text().splitlines()
    assert len(lines) == 15_625
    rows = [json.loads(line) for line in lines]
    assert [r["index"] for r in rows] == list(range(15_625))
    resnet = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
    row = rows[nb201.index_of([resnet])[0]]
    assert row["arch_str"] == resnet
    assert row["ops"] == ["input", "conv3x3", "none", "conv3x3", "skip", "none", "skip", "output"]
    assert row["adjacency"] == nb201.ADJACENCY.tolist() and len(row["hash"]) == 32
    assert len({r["hash"] for r in rows}) == 15_625


def test_export_darts_has_genotypes(capsys, tmp_path):
    out_file = tmp_path / "d.jsonl"
    code, _, _ = run(
        capsys,
        "space",
        "export",
        "darts",
        "--samples",
        "50",
        "--data-dir",
        str(tmp_path),
        "--out",
        str(out_file),
    )
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert code == 0 and len(rows) == 50 and rows[0]["genotype"].startswith("[(")
    assert len(rows[0]["adjacency"]) == 11 and rows[0]["ops"][-1] == "c_{k}"


def test_unwritable_output_is_one_line_error(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(
        capsys, "space", "export", "nb201", "--out", str(blocker / "sub" / "o.jsonl")
    )
    assert code == 2 and err.startswith("arch2vec: error:") and err.count("\n") == 1


def test_bad_arguments_exit_with_usage(capsys):
    assert main(["space", "info", "nb999"]) == 2
    assert "unknown space 'nb999'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["space", "build", "darts", "--samples", "0"])
    assert "positive integer" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command, options",
    [
        (["space", "export"], ["--out", "--data-dir", "--seed"]),
        (["pretrain"], ["--space", "--model", "--epochs", "--batch-size", "--seed", "--resume"]),
        (["evaluate"], ["RUN_DIR", "--samples", "--json"]),
        (["embed"], ["RUN_DIR", "--out"]),
        (["reproduce"], ["table1", "--spaces", "--models", "--out"]),
        (["analyze", "predictive"], ["--train-size", "--seeds", "--threshold", "--include"]),
        (["analyze", "smoothness"], ["--walk-length", "--starts", "--steps", "--benchmark"]),
        (["analyze", "tsne"], ["--n", "--perplexity", "--benchmark"]),
        (["report"], ["DIR", "--out", "--format"]),
    ],
)
def test_help_explains_every_option(command, options):
    proc = subprocess.run(
        [sys.executable, "-m", "arch2vec.cli", *command, "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in options:
        assert option in proc.stdout
