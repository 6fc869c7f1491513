"""Spaces from a spec file, your own results as a benchmark, richer queries (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_file

from arch2vec import benchmarks, search, spaces
from arch2vec.cli import main
from arch2vec.spaces.spec import SpaceSpec, SpecSpace


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("spec-cache")


def test_nb201_spec_is_the_builtin_space(data_dir):
    spec = spaces.get(str(spaces.example_spec("nb201")), data_dir=data_dir)
    builtin = spaces.get("nb201")
    a, b = spec.all(), builtin.all()
    assert len(a) == len(b) == 15_625 and a.num_nodes == b.num_nodes == 8
    assert (a.adjacency == b.adjacency[0]).all()
    assert {r.tobytes() for r in a.ops} == {r.tobytes() for r in b.ops}  # the same cells
    assert set(spec.hashes().tolist()) == set(builtin.hashes().tolist())
    # the arch strings are NB-201's own: the same cell under both names
    arch = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
    i, j = spec.locate(arch), builtin.locate(arch)
    assert spec.native(i) == arch and spec.hashes()[i] == builtin.hashes()[j]
    assert (spec.all().ops[i] == builtin.all().ops[j]).all()


def test_cell6_enumeration_hash_and_native(data_dir):
    space = spaces.get(str(spaces.example_spec("cell6")), data_dir=data_dir)
    cells = space.all()
    assert len(cells) == 28_538 and cells.num_nodes == 6 and space.ops[1] == "conv3x3"
    assert space.is_valid(cells).all() and len(set(space.hashes().tolist())) == len(cells)
    pools = (cells.ops == space.ops.index("maxpool3x3")).sum(axis=1)
    assert pools.max() == 2 and (cells.num_edges() <= 7).all()
    # two parallel branches listed in either order are one cell (the wl hash)
    a = {"matrix": [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
         "ops": ["input", "conv3x3", "conv5x5", "output"]}  # fmt: skip
    b = {"matrix": a["matrix"], "ops": ["input", "conv5x5", "conv3x3", "output"]}
    i = space.locate(json.dumps(a))
    assert i == space.locate(json.dumps(b)) >= 0
    assert space.native(i) in (a, b)
    # a dangling node is pruned away: the same cell as without it
    c = {"matrix": [[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0] * 5, [0] * 5],
         "ops": ["input", "conv3x3", "conv5x5", "identity", "output"]}  # fmt: skip
    assert space.locate(json.dumps(c)) == i
    too_many = {"matrix": [[0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                "ops": ["input", "maxpool3x3", "maxpool3x3", "output"]}  # fmt: skip
    assert space.locate(json.dumps(too_many)) >= 0
    three_pools = {
        "matrix": [[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0] * 5],
        "ops": ["input", "maxpool3x3", "maxpool3x3", "maxpool3x3", "output"],
    }
    with pytest.raises(ValueError, match="not a cell of the pool"):
        space.locate(json.dumps(three_pools))


def test_an_edge_space_and_a_sampled_space(data_dir):
    tri = SpecSpace(
        {
            "name": "tri",
            "ops": ["a", "b", "c"],
            "ops_on": "edges",
            "edges": [[0, 1], [0, 2], [1, 2]],
        },
        data_dir=data_dir,
    )
    assert len(tri.all()) == 27 and tri.num_nodes == 5
    names = tri.to_native(tri.all())
    assert names[0] == "|a~0|+|a~0|a~1|" and names[5] == "|a~0|+|b~0|c~1|"
    assert tri.from_native(names).ops.tolist() == tri.all().ops.tolist()
    # edge (0, 1) feeds edge (1, 2); (0, 2) and (1, 2) feed the output
    assert tri.all().adjacency[0].tolist()[0] == [0, 1, 1, 0, 0]
    spec = {"name": "big8", "ops": ["x", "y"], "ops_on": "nodes", "max_nodes": 8,
            "max_edges": 12, "pool": {"mode": "sample", "samples": 300, "seed": 3}}  # fmt: skip
    big = SpecSpace(spec, data_dir=data_dir)
    cells = big.all()
    assert len(cells) == 300 and big.is_valid(cells).all()
    assert len(set(big.hashes().tolist())) == 300
    again = SpecSpace(spec, data_dir=data_dir / "other")
    assert (again.all().ops == cells.ops).all()  # the seed fixes the draw


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\nops_on = "nodes"\nmax_nodes = 5\nmax_edges = 6', "field 'ops': missing"),
        ('name = "x"\nops = ["a"]\nops_on = "graph"', "field 'ops_on': expected 'nodes'"),
        ('name = "x"\nops = ["a"]\nops_on = "edges"\nedges = [[0, 1], [2, 1]]', "cycle"),
        ('name = "x"\nops = ["a"]\nops_on = "edges"\nedges = [[0, 1], [0, 3]]', "node 2"),
        ('name = "x"\nops = ["a"]\nops_on = "nodes"\nmax_nodes = 9\nmax_edges = 9', "sample"),
        (
            'name = "x"\nops = ["a"]\nops_on = "nodes"\nmax_nodes = 5\nmax_edges = 6\ncolour = 1',
            "field 'colour': unknown field",
        ),  # fmt: skip
        (
            'name = "x"\nops = ["a", "a"]\nops_on = "nodes"\nmax_nodes = 5\nmax_edges = 6',
            "distinct",
        ),
        (
            'name = "x"\nops = ["a"]\nops_on = "nodes"\nmax_nodes = 5\nmax_edges = 6\n'
            "[op_counts]\nb = [0, 1]",
            "field 'op_counts.b': unknown op",
        ),  # fmt: skip
        (
            'name = "x"\nops = ["a"]\nops_on = "nodes"\nmax_nodes = 5\nmax_edges = 6\n'
            '[pool]\nmode = "sample"',
            "field 'pool.samples': missing",
        ),  # fmt: skip
        ("name = [", "not valid TOML"),
    ],
)
def test_a_malformed_spec_is_a_one_line_error_naming_the_field(tmp_path, text, message):
    path = tmp_path / "space.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        SpaceSpec.load(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_the_cli_takes_a_spec_file_where_it_takes_a_space(tmp_path, capsys, data_dir):
    spec = str(spaces.example_spec("nb201"))
    argv = ["space", "export", spec, "--out", str(tmp_path / "cells.jsonl")]
    assert main([*argv, "--data-dir", str(data_dir)]) == 0
    rows = [json.loads(x) for x in (tmp_path / "cells.jsonl").read_text().splitlines()]
    assert len(rows) == 15_625 and rows[0]["arch_str"].startswith("|nor_conv_1x1~0|")
    assert main(["space", "info", spec, "--json", "--data-dir", str(data_dir)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["space"] == "nb201-spec" and info["num_cells"] == 15_625
    assert main(["space", "info", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read the space spec" in capsys.readouterr().err


# --------------------------------------------------------------------------- your own results


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def test_own_nb201_measurements_as_a_benchmark(tmp_path):
    merged = shared_file("nb201/nb201_merged.csv")
    ours = benchmarks.load(
        "table",
        file=merged,
        space="nb201",
        columns={"arch": "arch_str", "reward": "c10valid_val_12ep", "valid": "c10valid_val_200ep"},
    )
    paper = benchmarks.load("nb201-csv", "cifar10", merged)
    np.testing.assert_allclose(ours.search, paper.search)
    assert ours.info()["coverage"] == 1.0 and "c10valid_params_MB" in ours.extras
    # a subset: coverage is reported, a search proposes only covered cells
    rows = merged.read_text().splitlines()
    subset = tmp_path / "subset.csv"
    subset.write_text("\n".join(rows[:2001]) + "\n")
    part = benchmarks.load(
        "table",
        file=subset,
        space="nb201",
        columns={"arch": "arch_str", "reward": "c10valid_val_200ep"},
    )
    assert len(part.pool) == 2000 and part.info()["coverage"] == 0.128
    result = search.run("random", part, runs=2, budget_queries=30)
    assert all(set(r["index"]) <= set(part.pool.tolist()) for r in result.runs)


def test_own_results_by_hash_index_and_arrays(tmp_path, data_dir):
    space = spaces.get(str(spaces.example_spec("cell6")), data_dir=data_dir)
    h = space.hashes()
    path = write_csv(
        tmp_path / "r.csv",
        "arch,reward,test,cost,reward_low,cost_low,flops",
        [f"{h[3]},71.5,70.0,100,60,10,5e6", "7,72.5,,120,61,12,6e6"],
    )
    bench = benchmarks.load("table", file=path, space=space)
    assert bench.pool.tolist() == [3, 7] and bench.search[3] == 71.5 and np.isnan(bench.test[7])
    assert set(bench.fidelities) == {"low"} and bench.extras["flops"][7] == 6e6
    row = benchmarks.lookup(bench, str(h[7]), space=space)
    assert row["index"] == 7 and row["reward_low"] == 61 and row["flops"] == 6e6
    assert row["cell"] == space.native(7)
    cell = space.all()[3]
    n = int((cell.ops[0] >= 0).sum())
    adj = json.dumps(cell.adjacency[0][:n, :n].tolist())
    ops = json.dumps([space.ops[o] for o in cell.ops[0][:n]])
    by_arrays = tmp_path / "a.csv"
    by_arrays.write_text(f"adjacency\tops\tacc\n{adj}\t{ops}\t80\n".replace("\t", ";"))
    import csv

    with by_arrays.open("w", newline="") as f:
        csv.writer(f).writerows([["adjacency", "ops", "acc"], [adj, ops, "80"]])
    bench = benchmarks.load("table", file=by_arrays, space=space, columns={"reward": "acc"})
    assert bench.pool.tolist() == [3]


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        ("arch,acc", ["0,70"], "no column 'reward'"),
        ("arch,reward", ["0,seventy"], "row 2, column reward: 'seventy' is not a number"),
        ("arch,reward", ["0,1e9"], "row 2, column reward: 1000000000.0 is not an accuracy"),
        ("arch,reward", ["0,inf"], "is not an accuracy"),
        ("arch,reward", ["0,-1"], "is not an accuracy"),
        ("arch,reward", ["0,70", "1,"], "row 3, column reward: no reward"),
        ("arch,reward,cost", ["0,70,-5"], "is not a number of seconds"),
        ("arch,reward", ["0,70", "999999,70"], "row 3, column arch: '999999' is not a cell"),
        ("arch,reward", ["0,70", "not-a-cell,70"], "row 3, column arch"),
        ("arch,reward", ["0,70", "0,71"], "rows 2 and 3: the same cell twice"),
        ("arch,reward", ["0,70,5"], "row 2: 3 fields, expected 2"),
        ("arch,reward", [], "no rows"),
    ],
)
def test_a_bad_results_file_is_a_one_line_error_naming_the_row(
    tmp_path, data_dir, header, rows, message
):
    space = spaces.get(str(spaces.example_spec("cell6")), data_dir=data_dir)
    path = write_csv(tmp_path / "r.csv", header, rows)
    with pytest.raises(ValueError, match=message) as info:
        benchmarks.load("table", file=path, space=space)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_garbled_bytes_and_parquet(tmp_path, data_dir):
    space = spaces.get(str(spaces.example_spec("cell6")), data_dir=data_dir)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"arch,reward\n0,\xff\xfe70\n")
    with pytest.raises(ValueError, match=r"bad.csv: not UTF-8 text \(byte 14\)"):
        benchmarks.load("table", file=bad, space=space)
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pd.DataFrame({"arch": ["0", "5"], "reward": [70.0, 75.0]}).to_parquet(tmp_path / "r.parquet")
    bench = benchmarks.load("table", file=tmp_path / "r.parquet", space=space)
    assert bench.pool.tolist() == [0, 5] and bench.search[5] == 75.0
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match="not a readable Parquet file"):
        benchmarks.load("table", file=tmp_path / "junk.parquet", space=space)


def test_query_names_cells_every_way_and_returns_every_column(capsys):
    merged = shared_file("nb201/nb201_merged.csv")
    arch = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
    answers = []
    for name in (arch, "9776", spaces.get("nb201").hashes()[9776]):
        assert (
            main(["bench", "query", "nb201-csv", str(name), "--file", str(merged), "--json"]) == 0
        )
        answers.append(json.loads(capsys.readouterr().out))
    assert answers[0] == answers[1] == answers[2]
    row = answers[0]
    assert row["arch_str"] == arch and row["test_accuracy"] == 93.97
    assert row["reward_12"] == 83.742 and row["reward_200"] == 90.86  # per epoch
    assert row["c10valid_params_MB"] == 0.5594 and row["c10valid_latency"] == 0.0151


def test_a_spec_knows_its_size_before_listing_a_cell(data_dir):
    """``SpaceSpec.size`` counts the cells without listing them (issue 19): exactly where the
    docs' specs and hand-made ones are enumerated, and an upper bound under op counts on nodes."""
    assert SpaceSpec.load(spaces.example_spec("nb101")).size() == (423_624, True)
    assert SpaceSpec.load(spaces.example_spec("nb201")).size() == (15_625, True)
    bound, exact = SpaceSpec.load(spaces.example_spec("cell6")).size()
    assert bound >= 28_538 and not exact
    edges = {"name": "e", "ops": ["a", "b", "c"], "ops_on": "edges"}
    edges["edges"] = [[0, 1], [1, 2], [0, 2], [2, 3]]
    counted = {**edges, "name": "ec", "op_counts": {"a": [1, 2], "c": [0, 1]}}
    nodes = {"name": "n", "ops": ["a", "b", "c"], "ops_on": "nodes", "max_nodes": 6}
    nodes["max_edges"] = 8
    for spec in (edges, counted, nodes):
        size, exact = SpaceSpec.from_dict(spec).size()
        assert exact and size == len(SpecSpace(spec, data_dir=data_dir).all()), spec["name"]
    # by hand: 4 edges over {a, b, c}, one or two a, at most one c: 4 + 12 + 6 + 12
    by_hand = sum(
        1
        for k in range(3**4)
        for ops in [[(k // 3**i) % 3 for i in range(4)]]
        if 1 <= ops.count(0) <= 2 and ops.count(2) <= 1
    )
    assert SpaceSpec.from_dict(counted).size() == (by_hand, True) and by_hand == 34


def test_sampling_a_space_smaller_than_asked_is_refused_at_once(data_dir):
    spec = {"name": "s", "ops": ["a", "b"], "ops_on": "nodes", "max_nodes": 4, "max_edges": 5}
    assert len(SpecSpace(spec, data_dir=data_dir).all()) == 39  # enumerated
    spec["pool"] = {"mode": "sample", "samples": 50}
    with pytest.raises(ValueError, match="50 samples, but the space holds only 39 cells"):
        SpecSpace(spec, data_dir=data_dir).all()
    spec["op_counts"] = {"a": [0, 0]}  # a bound only: the sampler gives up, saying so
    spec["pool"]["samples"] = 15
    with pytest.raises(ValueError, match="only .* distinct cells were found"):
        SpecSpace(spec, data_dir=data_dir).all()


@pytest.mark.parametrize("kind", ["edges", "nodes"])
def test_every_spec_that_loads_round_trips_through_export_a_results_table_and_search(
    kind, tmp_path, data_dir
):
    """``space export`` -> a results table keyed by the exported names -> ``search`` (issue
    19): every exported name reads back as its own cell."""
    spec = (
        {"name": "rt-e", "ops": ["conv-3x3", "max_pool.2", "id_1"], "ops_on": "edges",
         "edges": [[0, 1], [0, 2], [1, 2]]}
        if kind == "edges"
        else {"name": "rt-n", "ops": ["conv-3x3", "max_pool.2"], "ops_on": "nodes",
              "max_nodes": 5, "max_edges": 6}
    )  # fmt: skip
    space = SpecSpace(spec, data_dir=data_dir)
    exported = tmp_path / "cells.jsonl"
    assert space.export(exported) == len(space.all())
    rows = [json.loads(line) for line in exported.read_text().splitlines()]
    key = space.native_key
    names = [r[key] if isinstance(r[key], str) else json.dumps(r[key]) for r in rows]
    csv = tmp_path / "results.csv"
    quoted = ['"' + n.replace('"', '""') + '"' for n in names]
    csv.write_text("arch,reward\n" + "".join(f"{n},{50 + k % 40}\n" for k, n in enumerate(quoted)))
    table = benchmarks.load("table", file=csv, space=space)
    assert len(table.pool) == len(rows)
    np.testing.assert_array_equal(table.search, 50 + np.arange(len(rows)) % 40)
    result = search.run("random", table, space=space, runs=1, budget_queries=5)
    assert result.summary["runs"] == 1
