"""Bad input, command by command: every case exits with status 2 and exactly one
``arch2vec: error:`` line that names the culprit, prints no traceback, and changes no file that
existed before (issue 13). Cases run in this process (an uncaught exception fails the case).

Each case is ``(id, argv, expected)``: ``argv`` may use ``{run}`` (a small pre-training run),
``{exp}`` (a finished search), ``{tmp}`` (a folder of prepared bad files, see :func:`bad_files`),
``{merged}`` (the merged NB-201 table) and ``{nb101}`` (the NB-101 subsets folder).
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED

from arch2vec import io
from arch2vec.cli import main
from arch2vec.models.embeddings import Embeddings

ARCH = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
SEARCH = ["search", "--strategy", "random", "--budget-queries", "5", "--runs", "1"]
BO = ["search", "--strategy", "arch2vec-bo", "--embeddings", "{run}/run", "--budget-queries", "5"]
GENOTYPE = str(
    [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("skip_connect", 0), ("sep_conv_3x3", 1)]
    + [("skip_connect", 0), ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 2)]
)
SPEC = 'name = "x"\nops = ["a", "b"]\nops_on = "nodes"\nmax_nodes = 5\nmax_edges = 6\n'
EDGES = 'name = "e"\nops = ["a", "b"]\nops_on = "edges"\n'


def csv_rows(header: str, *rows: str) -> str:
    return header + "\n" + "".join(r + "\n" for r in rows)


# the bad files, by name: text, or bytes
FILES: dict[str, str | bytes] = {
    "garbled.csv": b"arch_str,c10valid_val_12ep\n\xff\xfe\n",
    "empty.csv": "",
    "noreward.csv": csv_rows("arch,acc", "0,70"),
    "text.csv": csv_rows("arch,reward", "0,seventy"),
    "huge.csv": csv_rows("arch,reward", "0,1e9"),
    "inf.csv": csv_rows("arch,reward", "0,inf"),
    "negative.csv": csv_rows("arch,reward", "0,-3"),
    "nocell.csv": csv_rows("arch,reward", "0,70", "999999,70"),
    "badarch.csv": csv_rows("arch,reward", f"{ARCH},70", "|conv~0|,71"),
    "twice.csv": csv_rows("arch,reward", "5,70", "5,71"),
    "fields.csv": csv_rows("arch,reward", "0,70,1"),
    "noreward2.csv": csv_rows("arch,reward", "0,70", "1,"),
    "badcost.csv": csv_rows("arch,reward,cost", "0,70,-1"),
    "rows.csv": csv_rows("arch,reward"),
    "junk.parquet": b"not parquet at all",
    "badspec.toml": "name = [",
    "garbled.toml": b'name = "\xff"\n',
    "unknownfield.toml": SPEC + "colour = 1\n",
    "noops.toml": 'name = "x"\nops_on = "nodes"\nmax_nodes = 5\nmax_edges = 6\n',
    "onwhat.toml": 'name = "x"\nops = ["a"]\nops_on = "graph"\n',
    "cycle.toml": EDGES + "edges = [[0, 1], [2, 1]]\n",
    "offpath.toml": EDGES + "edges = [[0, 1], [0, 3]]\n",
    "twiceedge.toml": EDGES + "edges = [[0, 1], [0, 1], [1, 2]]\n",
    "order.toml": EDGES + "edges = [[1, 2], [0, 1]]\n",
    "toobig.toml": 'name = "x"\nops = ["a"]\nops_on = "nodes"\nmax_nodes = 9\nmax_edges = 9\n',
    "countop.toml": SPEC + "[op_counts]\nc = [0, 1]\n",
    "countbounds.toml": SPEC + "[op_counts]\na = [2, 1]\n",
    "hash.toml": SPEC + 'hash = "md5"\n',
    "mode.toml": SPEC + '[pool]\nmode = "all"\n',
    "poolfield.toml": SPEC + "[pool]\nsize = 3\n",
    "nosamples.toml": SPEC + '[pool]\nmode = "sample"\n',
    "name.toml": SPEC.replace('"x"', '"a b"'),
    "inout.toml": SPEC + 'input = "io"\noutput = "io"\n',
    "noops2.toml": SPEC.replace('["a", "b"]', "[]"),
    "dupops.toml": SPEC.replace('["a", "b"]', '["a", "a"]'),
    "array.json": "[1, 2]",
    "badjson.json": "{not json",
    "nodes_edges.toml": SPEC + "edges = [[0, 1]]\n",
    "maxedges.toml": SPEC.replace("max_edges = 6", "max_edges = 0"),
    "rewards.csv": csv_rows("arch,reward", "0,70", "1,71"),
    # sizes checked before anything is allocated; op names that would not round-trip
    "manyops.toml": 'name = "m"\nops_on = "nodes"\nmax_nodes = 7\nmax_edges = 9\nops = ['
    + ", ".join(f'"o{k}"' for k in range(30))
    + "]\n",
    "product.toml": EDGES.replace('["a", "b"]', "[" + ", ".join(f'"o{k}"' for k in range(10)) + "]")
    + "edges = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [6, 7], [7, 8]]\n",
    "oversample.toml": EDGES
    + 'edges = [[0, 1], [1, 2], [0, 2]]\n[pool]\nmode = "sample"\n'
    + "samples = 1000\n",
    "hugesample.toml": SPEC + '[pool]\nmode = "sample"\nsamples = 90000000\n',
    "bigcells.toml": SPEC.replace("max_nodes = 5", "max_nodes = 60")
    + '[pool]\nmode = "sample"\nsamples = 1000000\n',
    "toomanyops.toml": SPEC.replace(
        '["a", "b"]', "[" + ", ".join(f'"o{k}"' for k in range(126)) + "]"
    ),
    "plusop.toml": SPEC.replace('["a", "b"]', '["a+b", "c"]'),
    "pipeop.toml": EDGES.replace('["a", "b"]', '["a|b", "c"]') + "edges = [[0, 1]]\n",
    "tildeop.toml": EDGES.replace('["a", "b"]', '["a~1", "c"]') + "edges = [[0, 1]]\n",
    "spaceop.toml": SPEC.replace('["a", "b"]', '["conv 3x3", "c"]'),
    "commaop.toml": SPEC.replace('["a", "b"]', '["a,b", "c"]'),
    "spaceio.toml": SPEC + 'input = "in put"\n',
    "notnpz.npz": b"PK\x03\x04 but not a zip",
    "random.npz": b"\x00\x01\x02 random bytes",
}


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    for name, content in FILES.items():
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    # a merged NB-201 table cut at a line boundary, and ones with bad values
    merged = SHARED / "nb201" / "nb201_merged.csv"
    if merged.is_file():
        lines = merged.read_text().splitlines()
        (root / "cut.csv").write_text("\n".join(lines[:5001]) + "\n")
        header = lines[0].split(",")
        col = header.index("c10valid_val_12ep")
        for name, value in (("m_huge.csv", "1e9"), ("m_inf.csv", "inf"), ("m_text.csv", "x")):
            row = lines[1].split(",")
            row[col] = value
            (root / name).write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")
        (root / "m_fields.csv").write_text("\n".join([lines[0], lines[1] + ",1", *lines[2:]]))
        (root / "m_twice.csv").write_text("\n".join([lines[0], lines[1], *lines[1:]]))
        (root / "m_arch.csv").write_text(
            "\n".join([lines[0], lines[1].replace("|+|", "|*|", 1), *lines[2:]])
        )
        (root / "m_nocol.csv").write_text(
            "\n".join(line.rsplit(",", 1)[0] for line in lines[:3]) + "\n"
        )
    # NB-101 subsets with bad columns and values
    for name, data in (
        ("nb101_nocol.json", {"key": ["0" * 32]}),
        ("nb101_frac.json", _subset("00005c142e6f48ac74fdcf73e3439874", 2.0)),
        ("nb101_key.json", _subset("f" * 32, 0.9)),
    ):
        (root / name).write_text(json.dumps(data))
    (root / "nb101_bad.json").write_text("{not json")
    # embeddings of another space, of another size; a crafted CIFAR-10 folder; experiments
    Embeddings(np.zeros((10, 16), np.float32), "darts").save(root / "darts.npz")
    Embeddings(np.zeros((10, 16), np.float32), "nb201").save(root / "small.npz")
    cifar = root / "cifar" / "cifar-10-batches-py"
    cifar.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(cifar / name, "wb") as fh:
            pickle.dump({b"data": Payload(root / "pwned"), b"labels": [1]}, fh)
    for name, config in (("cfg_empty", "{}"), ("cfg_list", "[1, 2]"), ("cfg_bytes", None)):
        exp = root / name
        exp.mkdir()
        if config is None:
            (exp / "config.json").write_bytes(b"\xff\xfe")
        else:
            (exp / "config.json").write_text(config)
        (exp / "runs.jsonl").write_text("{}\n[1, 2]\n")
    (root / "afile").write_text("a file, not a folder\n")
    (root / "nosummary").mkdir()
    (root / "nobest").mkdir()
    (root / "nobest" / "summary.json").write_text('{"best": null}')
    return root


def _subset(key: str, accuracy: float) -> dict:
    data = {"key": [key], "final_training_time": [1000.0]}
    for epochs in (4, 12, 36, 108):
        data[f"{epochs}_final_validation_accuracy"] = [accuracy]
    return data


class Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A one-epoch NB-201 pre-training run, and a copy with its configuration edited."""
    root = tmp_path_factory.mktemp("run")
    argv = ["pretrain", "--space", "nb201", "--epochs", "1", "--batch-size", "512"]
    assert main([*argv, "--out", str(root / "run"), "--json"]) == 0
    edited = root / "edited"
    edited.mkdir()
    (edited / "checkpoint.pt").write_bytes((root / "run" / "checkpoint.pt").read_bytes())
    config = json.loads((root / "run" / "config.json").read_text())
    for name, change in (
        ("edited", {"hidden": [64, 64, 64, 64]}),
        ("spaced", {"space": "nb999"}),
        ("typed", {"lr": "abc"}),
    ):
        folder = root / name
        folder.mkdir(exist_ok=True)
        (folder / "checkpoint.pt").write_bytes((root / "run" / "checkpoint.pt").read_bytes())
        (folder / "config.json").write_text(
            json.dumps({**config, "config": {**config["config"], **change}})
        )
    for name, blob in (("truncated", b"PK\x03\x04junk"), ("nockpt", None)):
        folder = root / name
        folder.mkdir()
        (folder / "config.json").write_text((root / "run" / "config.json").read_text())
        if blob is not None:
            (folder / "checkpoint.pt").write_bytes(blob)
    for name, text in (("emptycfg", "{}"), ("badcfg", "{not json"), ("listcfg", '{"config": []}')):
        folder = root / name
        folder.mkdir()
        (folder / "config.json").write_text(text)
    return root


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    root = tmp_path_factory.mktemp("exp") / "exp"
    assert main([*SEARCH, "--runs", "2", "--out", str(root), "--json"]) == 0
    return root


def P(*argv: str) -> list[str]:
    return list(argv)


CASES = [
    # ------------------------------------------------------------------ space
    ("space-unknown", P("space", "info", "nb999"), "unknown space 'nb999'"),
    ("space-missing-spec", P("space", "info", "{tmp}/missing.toml"), "cannot read the space spec"),
    ("spec-toml", P("space", "info", "{tmp}/badspec.toml"), "badspec.toml: not valid TOML"),
    ("spec-bytes", P("space", "info", "{tmp}/garbled.toml"), "garbled.toml: not UTF-8 text"),
    ("spec-field", P("space", "info", "{tmp}/unknownfield.toml"), "field 'colour': unknown"),
    ("spec-noops", P("space", "info", "{tmp}/noops.toml"), "field 'ops': missing"),
    ("spec-onwhat", P("space", "info", "{tmp}/onwhat.toml"), "field 'ops_on'"),
    ("spec-cycle", P("space", "info", "{tmp}/cycle.toml"), "a cycle in the DAG"),
    ("spec-offpath", P("space", "info", "{tmp}/offpath.toml"), "node 2"),
    ("spec-twice", P("space", "info", "{tmp}/twiceedge.toml"), "listed twice"),
    ("spec-order", P("space", "info", "{tmp}/order.toml"), "must be listed after"),
    ("spec-toobig", P("space", "info", "{tmp}/toobig.toml"), "use mode = 'sample'"),
    ("spec-countop", P("space", "info", "{tmp}/countop.toml"), "op_counts.c': unknown op"),
    ("spec-bounds", P("space", "info", "{tmp}/countbounds.toml"), "op_counts.a'"),
    ("spec-hash", P("space", "info", "{tmp}/hash.toml"), "field 'hash'"),
    ("spec-mode", P("space", "info", "{tmp}/mode.toml"), "field 'pool.mode'"),
    ("spec-poolfield", P("space", "info", "{tmp}/poolfield.toml"), "field 'pool.size'"),
    ("spec-samples", P("space", "info", "{tmp}/nosamples.toml"), "pool.samples': missing"),
    ("spec-name", P("space", "info", "{tmp}/name.toml"), "field 'name'"),
    ("spec-inout", P("space", "info", "{tmp}/inout.toml"), "field 'input'"),
    ("spec-emptyops", P("space", "info", "{tmp}/noops2.toml"), "field 'ops'"),
    ("spec-dupops", P("space", "info", "{tmp}/dupops.toml"), "must be distinct"),
    ("spec-array", P("space", "info", "{tmp}/array.json"), "a table of fields"),
    ("spec-json", P("space", "info", "{tmp}/badjson.json"), "badjson.json: not valid JSON"),
    ("spec-edges-on-nodes", P("space", "info", "{tmp}/nodes_edges.toml"), "field 'edges'"),
    ("spec-maxedges", P("space", "info", "{tmp}/maxedges.toml"), "field 'max_edges'"),
    ("spec-manyops", P("space", "info", "{tmp}/manyops.toml"), "cells is too large (at most"),
    ("spec-product", P("space", "info", "{tmp}/product.toml"), "100,000,000 cells is too large"),
    ("spec-oversample", P("space", "info", "{tmp}/oversample.toml"), "holds only 8 cells"),
    ("spec-hugesample", P("space", "info", "{tmp}/hugesample.toml"), "90,000,000 cells"),
    ("spec-bigcells", P("space", "info", "{tmp}/bigcells.toml"), "GiB of adjacency"),
    ("spec-toomanyops", P("space", "info", "{tmp}/toomanyops.toml"), "126 ops: at most 125"),
    ("spec-plusop", P("space", "info", "{tmp}/plusop.toml"), "op name 'a+b'"),
    ("spec-pipeop", P("space", "info", "{tmp}/pipeop.toml"), "op name 'a|b'"),
    ("spec-tildeop", P("space", "info", "{tmp}/tildeop.toml"), "op name 'a~1'"),
    ("spec-spaceop", P("space", "info", "{tmp}/spaceop.toml"), "op name 'conv 3x3'"),
    ("spec-commaop", P("space", "info", "{tmp}/commaop.toml"), "op name 'a,b'"),
    ("spec-spaceio", P("space", "info", "{tmp}/spaceio.toml"), "field 'input': op name"),
    (
        "darts-samples-big",
        P("space", "info", "darts", "--samples", "100000000"),
        "samples must be an integer in 1..5,000,000, got 100000000",
    ),
    ("space-samples-0", P("space", "build", "darts", "--samples", "0"), "--samples"),
    ("space-samples-abc", P("space", "build", "darts", "--samples", "abc"), "'abc'"),
    ("space-samples-huge", P("space", "info", "darts", "--samples", "99999999999"), "samples"),
    ("space-seed", P("space", "info", "nb201", "--seed", "x"), "--seed"),
    ("space-export-noout", P("space", "export", "nb201"), "--out"),
    ("space-nosub", P("space"), "SUBCOMMAND"),
    ("space-export-dir", P("space", "export", "nb201", "--out", "{tmp}/afile/x.jsonl"), "afile"),
    ("space-build-unknown", P("space", "build", "nb999"), "unknown space 'nb999'"),
    ("space-export-unknown", P("space", "export", "nb999", "--out", "{tmp}/x"), "nb999"),
    # ------------------------------------------------------------------ pretrain
    ("pre-unknown", P("pretrain", "--space", "nb999", "--out", "{tmp}/p"), "unknown space"),
    ("pre-epochs-0", P("pretrain", "--space", "nb201", "--epochs", "0"), "--epochs"),
    ("pre-epochs-neg", P("pretrain", "--space", "nb201", "--epochs", "-3"), "--epochs"),
    ("pre-lr-0", P("pretrain", "--space", "nb201", "--lr", "0"), "--lr"),
    ("pre-lr-nan", P("pretrain", "--space", "nb201", "--lr", "nan"), "--lr"),
    ("pre-lr-text", P("pretrain", "--space", "nb201", "--lr", "fast"), "'fast'"),
    ("pre-beta-neg", P("pretrain", "--space", "nb201", "--beta", "-1"), "--beta"),
    ("pre-beta-nan", P("pretrain", "--space", "nb201", "--beta", "nan"), "--beta"),
    ("pre-beta-inf", P("pretrain", "--space", "nb201", "--beta", "inf"), "--beta"),
    ("pre-dropout-1", P("pretrain", "--space", "nb201", "--dropout", "1"), "--dropout"),
    ("pre-batch-0", P("pretrain", "--space", "nb201", "--batch-size", "0"), "--batch-size"),
    ("pre-threads-0", P("pretrain", "--space", "nb201", "--threads", "0"), "--threads"),
    (
        "pre-threads-huge",
        P("pretrain", "--space", "nb201", "--threads", "100000"),
        "threads must be an integer in 1..",
    ),
    ("pre-seed-neg", P("pretrain", "--space", "nb201", "--seed", "-1"), "seed must be an integer"),
    (
        "eval-samples-huge",
        P("evaluate", "{run}/run", "--samples", "10000000000"),
        "samples must be an integer in 1..1,000,000, got 10000000000",
    ),
    ("s-seed-neg", [*SEARCH, "--seed", "-1", "--out", "{tmp}/s"], "seed must be an integer in 0.."),
    ("pre-model", P("pretrain", "--space", "nb201", "--model", "gan"), "'gan'"),
    ("pre-nospace", P("pretrain"), "--space"),
    ("pre-spec", P("pretrain", "--space", "{tmp}/cycle.toml"), "cycle"),
    ("pre-exists", P("pretrain", "--space", "nb201", "--out", "{run}/run"), "already holds a run"),
    (
        "pre-resume-other",
        P("pretrain", "--space", "nb201", "--out", "{run}/run", "--resume", "--seed", "4"),
        "cannot resume",
    ),
    (
        "pre-resume-emptycfg",
        P(
            "pretrain",
            "--space",
            "nb201",
            "--epochs",
            "1",
            "--batch-size",
            "512",
            "--out",
            "{run}/truncated",
            "--resume",
        ),  # fmt: skip
        "unreadable checkpoint",
    ),
    ("pre-out-file", P("pretrain", "--space", "nb201", "--out", "{tmp}/afile"), "afile"),
    ("pre-pool-samples", P("pretrain", "--space", "darts", "--samples", "0"), "--samples"),
    ("pre-seed", P("pretrain", "--space", "nb201", "--seed", "1.5"), "--seed"),
    # ------------------------------------------------------------------ evaluate / embed
    ("eval-missing", P("evaluate", "{tmp}/nowhere"), "no such run directory"),
    ("eval-notrun", P("evaluate", "{tmp}/nosummary"), "not a pre-training run directory"),
    ("eval-samples-neg", P("evaluate", "{run}/run", "--samples", "-5"), "samples"),
    ("eval-samples-0", P("evaluate", "{run}/run", "--samples", "0"), "samples"),
    ("eval-samples-text", P("evaluate", "{run}/run", "--samples", "many"), "'many'"),
    ("eval-badcfg", P("evaluate", "{run}/badcfg"), "not a valid run configuration"),
    ("eval-emptycfg", P("evaluate", "{run}/emptycfg"), "not a valid run configuration"),
    ("eval-listcfg", P("evaluate", "{run}/listcfg"), "not a valid run configuration"),
    ("eval-edited", P("evaluate", "{run}/edited"), "do not match"),
    ("eval-spaced", P("evaluate", "{run}/spaced"), "unknown space 'nb999'"),
    ("eval-typed", P("evaluate", "{run}/typed"), "lr must be a number"),
    ("eval-truncated", P("evaluate", "{run}/truncated"), "unreadable checkpoint"),
    ("eval-nockpt", P("evaluate", "{run}/nockpt"), "no checkpoint"),
    ("eval-experiment", P("evaluate", "{exp}"), "a search experiment, not a pre-training run"),
    ("eval-seed", P("evaluate", "{run}/run", "--seed", "x"), "--seed"),
    ("embed-missing", P("embed", "{tmp}/nowhere"), "no such run directory"),
    ("embed-exists", P("embed", "{run}/run", "--out", "{tmp}/rewards.csv"), "already exists"),
    ("embed-nockpt", P("embed", "{run}/nockpt"), "no checkpoint"),
    ("embed-edited", P("embed", "{run}/edited"), "do not match"),
    ("embed-out-dir", P("embed", "{run}/run", "--out", "{tmp}/afile/e.npz"), "afile"),
    # ------------------------------------------------------------------ bench
    ("bench-unknown", P("bench", "info", "nb999"), "unknown benchmark 'nb999'"),
    ("bench-nofile", P("bench", "info", "nb201-csv"), "reads a file"),
    ("bench-missingfile", P("bench", "info", "nb201-csv", "--file", "{tmp}/no.csv"), "no.csv"),
    ("bench-garbled", P("bench", "info", "nb201-csv", "--file", "{tmp}/garbled.csv"), "UTF-8"),
    ("bench-emptycsv", P("bench", "info", "nb201-csv", "--file", "{tmp}/empty.csv"), "empty"),
    ("bench-cut", P("bench", "info", "nb201-csv", "--file", "{tmp}/cut.csv"), "5,000 of"),
    ("bench-huge", P("bench", "info", "nb201-csv", "--file", "{tmp}/m_huge.csv"), "row 2"),
    ("bench-inf", P("bench", "info", "nb201-csv", "--file", "{tmp}/m_inf.csv"), "not an accuracy"),
    ("bench-text", P("bench", "info", "nb201-csv", "--file", "{tmp}/m_text.csv"), "'x'"),
    ("bench-fields", P("bench", "info", "nb201-csv", "--file", "{tmp}/m_fields.csv"), "fields"),
    ("bench-twice", P("bench", "info", "nb201-csv", "--file", "{tmp}/m_twice.csv"), "twice"),
    ("bench-arch", P("bench", "info", "nb201-csv", "--file", "{tmp}/m_arch.csv"), "arch_str"),
    ("bench-nocol", P("bench", "info", "nb201-csv", "--file", "{tmp}/m_nocol.csv"), "no column"),
    ("bench-dataset", P("bench", "info", "nb201", "--dataset", "mnist"), "'mnist'"),
    ("bench-dataset-101", P("bench", "info", "nb101-30k", "--dataset", "cifar100"), "cifar100"),
    ("bench-30k-missing", P("bench", "info", "nb101-30k", "--file", "{tmp}/nope"), "nope"),
    ("bench-30k-json", P("bench", "info", "nb101-30k", "--file", "{tmp}/nb101_bad.json"), "JSON"),
    ("bench-30k-col", P("bench", "info", "nb101-30k", "--file", "{tmp}/nb101_nocol.json"), "col"),
    ("bench-30k-frac", P("bench", "info", "nb101-30k", "--file", "{tmp}/nb101_frac.json"), "2.0"),
    ("bench-30k-key", P("bench", "info", "nb101-30k", "--file", "{tmp}/nb101_key.json"), "hash"),
    ("bench-nb301-dir", P("bench", "info", "nb301", "--file", "{tmp}/nope"), "nope"),
    ("query-arch", P("bench", "query", "nb201", "not-an-arch"), "not-an-arch"),
    ("query-neg", P("bench", "query", "nb201", "--", "-1"), "pool index -1"),
    ("query-past", P("bench", "query", "nb201", "99999"), "pool index 99999"),
    ("query-hash", P("bench", "query", "nb201", "0" * 32), "no cell has hash"),
    ("query-json", P("bench", "query", "nb201", '{"matrix": 1}'), "nb201"),
    ("query-noarg", P("bench", "query", "nb201"), "ARCH"),
    ("query-hash31", P("bench", "query", "nb201", "b4aa2af6078b95507eae1319f48a6e6"), "32-hex"),
    ("query-opname", P("bench", "query", "nb201", "nor_conv_3x3"), "an arch string"),
    ("query-darts", P("bench", "query", "nb301", "--file", "{tmp}/nope", "0"), "nope"),
    ("query-dataset", P("bench", "query", "nb201", "0", "--dataset", "x"), "'x'"),
    (
        "table-nospace",
        P("bench", "info", "table", "--file", "{tmp}/rewards.csv"),
        "needs the space",
    ),
    ("table-nofile", P("bench", "info", "table", "--space", "nb201"), "reads a file"),
    # ------------------------------------------------------------------ table (your own results)
    *[
        (
            f"table-{name}",
            P("bench", "info", "table", "--space", "nb201", "--file", f"{{tmp}}/{f}"),
            msg,
        )
        for name, f, msg in (
            ("noreward", "noreward.csv", "no column 'reward'"),
            ("text", "text.csv", "'seventy' is not a number"),
            ("huge", "huge.csv", "is not an accuracy"),
            ("inf", "inf.csv", "is not an accuracy"),
            ("negative", "negative.csv", "is not an accuracy"),
            ("nocell", "nocell.csv", "row 3, column arch"),
            ("badarch", "badarch.csv", "row 3, column arch"),
            ("twice", "twice.csv", "rows 2 and 3"),
            ("fields", "fields.csv", "3 fields, expected 2"),
            ("noreward2", "noreward2.csv", "row 3, column reward: no reward"),
            ("badcost", "badcost.csv", "number of seconds"),
            ("norows", "rows.csv", "no rows"),
            ("empty", "empty.csv", "empty file"),
            ("garbled", "garbled.csv", "not UTF-8"),
            ("parquet", "junk.parquet", "junk.parquet"),
        )
    ],
    (
        "table-role",
        P(
            "bench",
            "info",
            "table",
            "--space",
            "nb201",
            "--file",
            "{tmp}/rewards.csv",
            "--column",
            "x=y",
        ),
        "unknown role 'x'",
    ),
    (
        "table-column",
        P(
            "bench",
            "info",
            "table",
            "--space",
            "nb201",
            "--file",
            "{tmp}/rewards.csv",
            "--column",
            "x",
        ),
        "expected KEY=VALUE",
    ),
    (
        "table-space",
        P("bench", "info", "table", "--space", "nb999", "--file", "{tmp}/rewards.csv"),
        "unknown space 'nb999'",
    ),
    (
        "table-spec",
        P("bench", "info", "table", "--space", "{tmp}/cycle.toml", "--file", "x"),
        "cycle",
    ),
    # ------------------------------------------------------------------ search
    (
        "s-strategy",
        P("search", "--strategy", "nope", "--budget-queries", "5", "--out", "{tmp}/s"),
        "unknown strategy 'nope'",
    ),
    ("s-hyper-name", [*SEARCH, "--hyper", "nosuch=1", "--out", "{tmp}/s"], "no parameter 'nosuch'"),
    ("s-hyper-form", [*SEARCH, "--hyper", "oops", "--out", "{tmp}/s"], "expected KEY=VALUE"),
    (
        "s-hyper-value",
        [*BO, "--hyper", "top_k=0", "--out", "{tmp}/s"],
        "top_k must be an integer in 1..",
    ),
    ("s-hyper-type", [*BO, "--hyper", "epochs=many", "--out", "{tmp}/s"], "must be an integer"),
    ("s-hyper-float", [*BO, "--hyper", "lr=x", "--out", "{tmp}/s"], "parameter lr must be"),
    ("s-hyper-act", [*BO, "--hyper", "activation=sigmoid", "--out", "{tmp}/s"], "activation"),
    ("s-hyper-nan", [*BO, "--hyper", "lr=NaN", "--out", "{tmp}/s"], "nan"),
    ("s-ei-nan", [*BO, "--ei-target", "nan", "--out", "{tmp}/s"], "ei_target"),
    *[
        (
            f"s-seconds-{v}",
            P("search", "--strategy", "random", "--budget-seconds", v, "--out", "{tmp}/s"),
            "budget_seconds",
        )
        for v in ("nan", "inf", "-5", "0")
    ],
    (
        "s-queries-0",
        P("search", "--strategy", "random", "--budget-queries", "0", "--out", "{tmp}/s"),
        "--budget-queries",
    ),
    ("s-nobudget", P("search", "--strategy", "random", "--out", "{tmp}/s"), "--budget"),
    (
        "s-twobudgets",
        P(
            "search",
            "--strategy",
            "random",
            "--budget-queries",
            "5",
            "--budget-seconds",
            "9",
            "--out",
            "{tmp}/s",
        ),
        "not allowed with",
    ),
    ("s-runs-0", [*SEARCH, "--runs", "0", "--out", "{tmp}/s"], "--runs"),
    ("s-workers-0", [*SEARCH, "--workers", "0", "--out", "{tmp}/s"], "--workers"),
    ("s-executor", [*SEARCH, "--executor", "dask", "--out", "{tmp}/s"], "'dask'"),
    ("s-address", [*SEARCH, "--address", "x:1", "--out", "{tmp}/s"], "only for the ray"),
    ("s-benchmark", [*SEARCH, "--benchmark", "nb999", "--out", "{tmp}/s"], "unknown benchmark"),
    (
        "s-space",
        [*SEARCH, "--space", "nb101", "--out", "{tmp}/s"],
        "not those of nb101 (fingerprint",
    ),
    ("s-space-unknown", [*SEARCH, "--space", "nb999", "--out", "{tmp}/s"], "unknown space"),
    (
        "s-noemb",
        P("search", "--strategy", "arch2vec-bo", "--budget-queries", "5", "--out", "{tmp}/s"),
        "needs embeddings",
    ),
    (
        "s-emb-missing",
        [*BO[:4], "{tmp}/nowhere", *BO[5:], "--out", "{tmp}/s"],
        "no such pre-training run",
    ),
    (
        "s-emb-csv",
        [*BO[:4], "{tmp}/rewards.csv", *BO[5:], "--out", "{tmp}/s"],
        "not an embeddings file",
    ),
    (
        "s-emb-space",
        [*BO[:4], "{tmp}/darts.npz", *BO[5:], "--out", "{tmp}/s"],
        "embeddings of darts",
    ),
    ("s-emb-size", [*BO[:4], "{tmp}/small.npz", *BO[5:], "--out", "{tmp}/s"], "nb201 (10 cells"),
    ("s-emb-random", [*BO[:4], "{tmp}/random.npz", *BO[5:], "--out", "{tmp}/s"], "not an .npz"),
    ("s-emb-zip", [*BO[:4], "{tmp}/notnpz.npz", *BO[5:], "--out", "{tmp}/s"], "notnpz.npz"),
    ("s-emb-exp", [*BO[:4], "{exp}", *BO[5:], "--out", "{tmp}/s"], "a search experiment"),
    ("s-nb301-nodir", [*SEARCH, "--evaluator", "nb301", "--out", "{tmp}/s"], "--surrogate-dir"),
    (
        "s-nb301-dir",
        [*SEARCH, "--evaluator", "nb301", "--surrogate-dir", "{tmp}/nope", "--out", "{tmp}/s"],
        "nope",
    ),
    ("s-train-nodata", [*SEARCH, "--evaluator", "train", "--out", "{tmp}/s"], "--data"),
    (
        "s-train-data",
        [*SEARCH, "--evaluator", "train", "--data", "{tmp}/nope", "--out", "{tmp}/s"],
        "not a directory",
    ),
    (
        "s-train-seconds",
        P(
            "search",
            "--strategy",
            "random",
            "--budget-seconds",
            "9",
            "--evaluator",
            "train",
            "--data",
            "{tmp}/cifar",
            "--out",
            "{tmp}/s",
        ),
        "budget in queries",
    ),
    (
        "s-evaluator",
        [*SEARCH, "--evaluator", "nope", "--out", "{tmp}/s"],
        "unknown evaluator 'nope'",
    ),
    ("s-exists", [*SEARCH, "--out", "{exp}"], "already holds an experiment"),
    (
        "s-resume-other",
        [*SEARCH, "--runs", "2", "--budget-queries", "7", "--out", "{exp}", "--resume"],
        "other settings",
    ),
    (
        "s-resume-empty",
        [*SEARCH, "--out", "{tmp}/cfg_empty", "--resume"],
        "not an experiment configuration",
    ),
    (
        "s-resume-list",
        [*SEARCH, "--out", "{tmp}/cfg_list", "--resume"],
        "not an experiment configuration",
    ),
    (
        "s-resume-bytes",
        [*SEARCH, "--out", "{tmp}/cfg_bytes", "--resume"],
        "not an experiment configuration",
    ),
    ("s-out-file", [*SEARCH, "--out", "{tmp}/afile"], "afile"),
    ("s-csv-nofile", [*SEARCH, "--benchmark", "nb201-csv", "--out", "{tmp}/s"], "reads a file"),
    (
        "s-table-nospace",
        [*SEARCH, "--benchmark", "table", "--file", "{tmp}/rewards.csv", "--out", "{tmp}/s"],
        "needs the space",
    ),
    ("s-dataset", [*SEARCH, "--dataset", "mnist", "--out", "{tmp}/s"], "'mnist'"),
    ("s-seed", [*SEARCH, "--seed", "x", "--out", "{tmp}/s"], "--seed"),
    ("s-noout", SEARCH, "--out"),
    ("s-nostrategy", P("search", "--budget-queries", "5", "--out", "{tmp}/s"), "--strategy"),
    (
        "s-rl-feed",
        [*BO[:2], "arch2vec-rl", *BO[3:], "--hyper", "feed=both", "--out", "{tmp}/s"],
        "feed",
    ),
    (
        "s-rl-sigma",
        [*BO[:2], "arch2vec-rl", *BO[3:], "--hyper", "sigma=abc", "--out", "{tmp}/s"],
        "sigma",
    ),
    (
        "s-rl-batch",
        [*BO[:2], "arch2vec-rl", *BO[3:], "--hyper", "batch=2.5", "--out", "{tmp}/s"],
        "batch",
    ),
    (
        "s-bohb-eta",
        [*SEARCH[:2], "bohb", *SEARCH[3:], "--hyper", "eta=1", "--out", "{tmp}/s"],
        "eta",
    ),
    (
        "s-evo-pop",
        [*SEARCH[:2], "evolution", *SEARCH[3:], "--hyper", "population=0", "--out", "{tmp}/s"],
        "population",
    ),
    (
        "s-reinf-lr",
        [*SEARCH[:2], "reinforce", *SEARCH[3:], "--hyper", "lr=0", "--out", "{tmp}/s"],
        "lr must be a finite number in (0, 10], got 0",
    ),
    # ------------------------------------------------------------------ report
    ("r-missing", P("report", "{tmp}/nowhere", "--out", "{tmp}/r"), "not a search experiment"),
    ("r-pretrain", P("report", "{run}/run", "--out", "{tmp}/r"), "not a search experiment"),
    ("r-runs", P("report", "{tmp}/cfg_empty", "--out", "{tmp}/r"), "cfg_empty"),
    ("r-list", P("report", "{tmp}/cfg_list", "--out", "{tmp}/r"), "cfg_list"),
    ("r-bytes", P("report", "{tmp}/cfg_bytes", "--out", "{tmp}/r"), "cfg_bytes"),
    ("r-format", P("report", "{exp}", "--format", "pdf"), "'pdf'"),
    ("r-nodirs", P("report"), "DIR"),
    ("r-out-file", P("report", "{exp}", "--out", "{tmp}/afile"), "afile"),
    ("r-second", P("report", "{exp}", "{tmp}/nosummary", "--out", "{tmp}/r"), "nosummary"),
    # ------------------------------------------------------------------ analyze
    ("a-nobench", P("analyze", "predictive", "--embeddings", "{run}/run"), "--benchmark"),
    ("a-noemb", P("analyze", "tsne", "--benchmark", "nb201"), "--embeddings"),
    (
        "a-emb-missing",
        P("analyze", "predictive", "--embeddings", "{tmp}/nowhere", "--benchmark", "nb201"),
        "no such pre-training",
    ),
    (
        "a-emb-csv",
        P("analyze", "tsne", "--embeddings", "{tmp}/rewards.csv", "--benchmark", "nb201"),
        "not an embeddings file",
    ),
    (
        "a-train-0",
        P(
            "analyze",
            "predictive",
            "--embeddings",
            "{run}/run",
            "--benchmark",
            "nb201",
            "--train-size",
            "0",
        ),
        "--train-size",
    ),
    (
        "a-include",
        P(
            "analyze",
            "predictive",
            "--embeddings",
            "{run}/run",
            "--benchmark",
            "nb201",
            "--include",
            "bogus",
        ),
        "include",
    ),
    (
        "a-train-big",
        P(
            "analyze",
            "predictive",
            "--embeddings",
            "{run}/run",
            "--benchmark",
            "nb201",
            "--train-size",
            "100000",
        ),
        "train_size",
    ),
    (
        "a-walk-1",
        P("analyze", "smoothness", "--embeddings", "{run}/run", "--walk-length", "1"),
        "walk_length",
    ),
    (
        "a-tsne-n",
        P("analyze", "tsne", "--embeddings", "{run}/run", "--benchmark", "nb201", "--n", "0"),
        "--n",
    ),
    (
        "a-bench",
        P("analyze", "smoothness", "--embeddings", "{run}/run", "--benchmark", "nb999"),
        "unknown benchmark",
    ),
    (
        "a-bench-space",
        P(
            "analyze",
            "tsne",
            "--embeddings",
            "{run}/run",
            "--benchmark",
            "nb101-30k",
            "--file",
            "x",
        ),
        "not those of nb201",
    ),
    ("a-nosub", P("analyze"), "ANALYSIS"),
    # ------------------------------------------------------------------ reproduce, darts-eval, demo
    ("rep-table3-nofile", P("reproduce", "table3"), "--file"),
    ("rep-table2-nofile", P("reproduce", "table2"), "--file"),
    (
        "rep-dataset",
        P("reproduce", "table3", "--file", "{merged}", "--datasets", "c10", "--out", "{tmp}/t3"),
        "unknown dataset 'c10'",
    ),
    ("rep-table", P("reproduce", "table9"), "'table9'"),
    (
        "rep-space",
        P("reproduce", "table1", "--spaces", "nb999", "--out", "{tmp}/t1"),
        "unknown space",
    ),
    ("rep-model", P("reproduce", "table1", "--models", "gan"), "'gan'"),
    (
        "rep-strategy",
        P("reproduce", "table3", "--file", "{merged}", "--strategies", "nope", "--out", "{tmp}/t3"),
        "unknown strategy",
    ),
    ("rep-runs", P("reproduce", "table3", "--runs", "0"), "--runs"),
    ("de-nothing", P("darts-eval", "--data", "{tmp}/cifar"), "give a genotype"),
    (
        "de-both",
        P("darts-eval", "--data", "{tmp}/cifar", "--genotype", "x", "--run", "{exp}"),
        "not both",
    ),
    (
        "de-genotype",
        P("darts-eval", "--data", "{tmp}/cifar", "--genotype", "[('conv', 0)]"),
        "genotype",
    ),
    (
        "de-nosummary",
        P("darts-eval", "--data", "{tmp}/cifar", "--run", "{tmp}/nosummary"),
        "no summary.json",
    ),
    (
        "de-nobest",
        P("darts-eval", "--data", "{tmp}/cifar", "--run", "{tmp}/nobest"),
        "names no best cell",
    ),
    ("de-data", P("darts-eval", "--data", "{tmp}/nope", "--genotype", GENOTYPE), "nope"),
    ("de-crafted", P("darts-eval", "--data", "{tmp}/cifar", "--genotype", GENOTYPE), "refuses"),
    ("de-epochs", P("darts-eval", "--data", "x", "--genotype", "x", "--epochs", "0"), "--epochs"),
    ("de-nodata", P("darts-eval", "--genotype", "x"), "--data"),
    ("demo-runs", P("demo", "--runs", "0"), "--runs"),
    ("demo-out-file", P("demo", "--out", "{tmp}/afile"), "afile"),
    ("no-command", [], "COMMAND"),
    ("bad-command", P("fly"), "'fly'"),
]


def fill(argv: list[str], paths: dict[str, str]) -> list[str]:
    out = []
    for a in argv:
        for key, value in paths.items():
            a = a.replace("{" + key + "}", value)
        out.append(a)
    return out


def snapshot(*roots: Path) -> dict[str, str]:
    out = {}
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and path.name != io.DirectoryLock.NAME:
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_there_are_enough_cases():
    assert len(CASES) >= 150 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("case", "argv", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, argv, expected, bad_files, run, exp, capsys, tmp_path):
    merged = SHARED / "nb201" / "nb201_merged.csv"
    if "{merged}" in " ".join(argv) or case.startswith("bench-") and "m_" in " ".join(argv):
        if not merged.is_file():
            pytest.skip("the merged NB-201 table is not present (../shared)")
    if case == "bench-cut" and not (bad_files / "cut.csv").is_file():
        pytest.skip("the merged NB-201 table is not present (../shared)")
    paths = {"tmp": str(bad_files), "run": str(run), "exp": str(exp), "merged": str(merged)}
    before = snapshot(bad_files, run, exp)
    try:
        code = main(fill(argv, paths))
    except SystemExit as e:  # argparse
        code = e.code
    err = capsys.readouterr().err
    assert code == 2, f"exit {code}: {err}"
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("arch2vec: error:")]
    assert len(lines) == 1, err
    assert expected in lines[0], lines[0]
    assert all(not line.startswith("arch2vec") or line in lines for line in err.splitlines())
    after = snapshot(bad_files, run, exp)
    changed = [path for path, digest in before.items() if after.get(path) != digest]
    assert not changed, f"files that existed were changed or removed: {changed}"
    assert not (bad_files / "pwned").exists(), "a crafted pickle ran code"
    assert not (bad_files / "s" / "config.json").exists(), "a refused search left its config"


def test_embeddings_native_names_round_trip_and_older_files(tmp_path):
    from arch2vec import io
    from arch2vec.models.embeddings import Embeddings

    names = np.array(["|avg_pool_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "α"])
    vectors = np.zeros((2, 4), np.float32)
    Embeddings(vectors, "nb201", native=names).save(tmp_path / "new.npz")
    np.testing.assert_array_equal(Embeddings.read(tmp_path / "new.npz").native, names)
    # files written before native names were stored as UTF-8 bytes held them as str arrays
    io.save_arrays(tmp_path / "old.npz", {"space": "nb201"}, embeddings=vectors, native=names)
    np.testing.assert_array_equal(Embeddings.read(tmp_path / "old.npz").native, names)
    io.save_arrays(tmp_path / "bad.npz", {"space": "nb201"}, embeddings=vectors, native=vectors)
    with pytest.raises(ValueError, match="'native' holds float32, expected text"):
        Embeddings.read(tmp_path / "bad.npz")
