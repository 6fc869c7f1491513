"""Every space answers every documented form of a cell name (issue 19): a pool index, a 32-hex
hash in any case, its native form and a JSON cell ``{"matrix", "ops"}`` -- or refuses in one line
that says which forms it takes (no ``AttributeError``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from arch2vec import benchmarks, spaces
from arch2vec.cli import main
from arch2vec.spaces.cells import PAD

NODES = {
    "name": "n5",
    "ops": ["a", "b"],
    "ops_on": "nodes",
    "max_nodes": 5,
    "max_edges": 6,
}
EDGES = {"name": "e3", "ops": ["x", "y", "z"], "ops_on": "edges", "edges": [[0, 1], [1, 2]]}


def _space(kind, tmp_path, nb101_space=None):
    if kind == "nb201":
        return spaces.get("nb201", data_dir=tmp_path)
    if kind == "darts":
        return spaces.get("darts", data_dir=tmp_path, samples=50, seed=3)
    if kind == "nb101":
        return nb101_space
    return spaces.get("x", data_dir=tmp_path, spec=NODES if kind == "nodes" else EDGES)


def _json_cell(space, index):
    cell = space.all()[[index]]
    keep = cell.ops[0] != PAD
    matrix = cell.adjacency[0][np.ix_(keep, keep)].tolist()
    return json.dumps({"matrix": matrix, "ops": [space.ops[o] for o in cell.ops[0][keep]]})


@pytest.mark.parametrize("kind", ["nb201", "darts", "nb101", "nodes", "edges"])
def test_every_form_names_the_same_cell(kind, tmp_path, request):
    space = _space(
        kind, tmp_path, request.getfixturevalue("nb101_space") if kind == "nb101" else None
    )
    n = len(space.all())
    for index in sorted({0, 1, n // 2, n - 1}):
        h = str(space.hashes()[index])
        names = [str(index), h, h.upper(), f"  {h}  ", _json_cell(space, index)]
        if space.native_key or kind == "nb101":
            native = space.native(index)
            names.append(native if isinstance(native, str) else json.dumps(native))
        for name in names:
            assert space.locate(name) == index, (kind, name)
        assert space.locate_many(names).tolist() == [index] * len(names)


@pytest.mark.parametrize("kind", ["nb201", "darts", "nb101", "nodes", "edges"])
def test_a_name_of_no_form_is_one_line_naming_the_forms(kind, tmp_path, request):
    space = _space(
        kind, tmp_path, request.getfixturevalue("nb101_space") if kind == "nb101" else None
    )
    h = str(space.hashes()[0])
    for bad in (h[:31], "conv3x3-bn-relu", "nor_conv_3x3", "[('x', 0)]", "{not json"):
        with pytest.raises(ValueError) as info:
            space.locate(bad)
        message = str(info.value)
        assert "\n" not in message and "a 32-hex hash (any case)" in message, message
        assert "pool index 0.." in message and "JSON cell" in message
    assert space.locate_many([h[:31], "nope"]).tolist() == [-1, -1]


def test_bench_query_answers_every_form_from_the_cli(capsys, nb101_space):
    from conftest import shared_file

    folder = str(shared_file("nb101/nb101_subset_1k.json").parent)
    key = "00005c142e6f48ac74fdcf73e3439874"
    data_dir = str(nb101_space.data_dir)
    index = nb101_space.locate(key)
    cell = json.dumps(nb101_space.native(index))
    for name in (key, key.upper(), str(index), cell):
        argv = ["bench", "query", "nb101-30k", name, "--file", folder, "--json"]
        assert main([*argv, "--data-dir", data_dir]) == 0
        assert json.loads(capsys.readouterr().out)["hash"] == key
    argv = ["bench", "query", "nb101-30k", key[:31], "--file", folder, "--data-dir", data_dir]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("arch2vec: error:") == 1
    assert "a 32-hex hash" in err


def test_a_table_over_darts_is_queried_by_genotype(tmp_path):
    space = spaces.get("darts", data_dir=tmp_path, samples=50, seed=3)
    genotypes = space.native(np.arange(5))
    csv = tmp_path / "results.csv"
    csv.write_text("arch,reward\n" + "".join(f'"{g}",{70 + k}\n' for k, g in enumerate(genotypes)))
    bench = benchmarks.load("table", file=csv, space=space)
    for k, genotype in enumerate(genotypes):
        got = benchmarks.lookup(bench, genotype, space=space)
        assert got["index"] == k and got["search_accuracy"] == 70 + k
        assert benchmarks.lookup(bench, got["hash"].upper(), space=space)["index"] == k
