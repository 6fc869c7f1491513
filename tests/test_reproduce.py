import csv

from conftest import shared_file

from arch2vec.analysis.paper import TABLE1, TABLE3
from arch2vec.analysis.reproduce import table1_markdown


def test_packaged_table1_equals_the_papers_csv():
    with shared_file("paper/table1_pretraining.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(TABLE1) == 9
    for row in rows:
        ours = TABLE1[(row["method"].lower(), row["space"])]
        for metric in ("reconstruction_accuracy", "validity", "uniqueness"):
            assert ours[metric] == float(row[metric])


def test_markdown_puts_paper_beside_ours():
    rows = [
        {
            "model": "arch2vec",
            "space": "nb201",
            "reconstruction_accuracy": 1.0,
            "validity": 0.6387,
            "uniqueness": 0.7966,
        },
        {
            "model": "gae",
            "space": "nb101",
            "reconstruction_accuracy": 0.5,
            "validity": 0.0,
            "uniqueness": 0.0,
        },
    ]
    text = table1_markdown(rows)
    lines = text.strip().splitlines()
    assert len(lines) == 4
    assert (
        lines[2] == "| arch2vec | NAS-Bench-201 | 100.00 (100.00) | 63.87 (79.41) | 79.66 (98.72) |"
    )
    assert lines[3].startswith("| GAE | NAS-Bench-101 | 50.00 (98.75) |")


def test_packaged_table3_equals_the_papers_csv():
    names = {
        "RE": "evolution",
        "RS": "random",
        "REINFORCE": "reinforce",
        "BOHB": "bohb",
        "arch2vec-RL": "arch2vec-rl",
        "arch2vec-BO": "arch2vec-bo",
    }
    with shared_file("paper/table3_nb201.csv").open() as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for prefix, dataset in (
            ("c10", "cifar10"),
            ("c100", "cifar100"),
            ("in16", "imagenet16-120"),
        ):
            want = tuple(
                float(row[f"{prefix}_{k}"]) for k in ("val", "val_std", "test", "test_std")
            )
            assert TABLE3[(names[row["method"]], dataset)] == want
