"""Property-based tests of the parsers and loaders (Hypothesis): whatever text comes in, they
either return a well-formed result that round-trips or raise a one-line ``ValueError`` -- never
another exception, never a silently wrong result."""

from __future__ import annotations

import csv
import io as text_io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arch2vec import benchmarks, spaces
from arch2vec.search.budget import Budget
from arch2vec.search.record import RUN_KEYS, read_runs
from arch2vec.spaces import darts, nb201
from arch2vec.spaces.spec import SpaceSpec

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
NB201 = spaces.get("nb201")


def one_line_error(fn, *args):
    """``fn(*args)``, or None when it raised a one-line ValueError."""
    try:
        return fn(*args)
    except ValueError as e:
        assert "\n" not in str(e) and str(e)
        return None


@SETTINGS
@given(st.lists(st.integers(0, 4), min_size=6, max_size=6))
def test_arch_strings_round_trip(digits):
    ops = [nb201.EDGE_OPS[d] for d in digits]
    text = nb201.format_arch_str(ops)
    assert nb201.parse_arch_str(text) == tuple(ops)
    index = NB201.locate(text)
    assert NB201.native(index) == text


@SETTINGS
@given(st.text(max_size=120))
def test_any_arch_string_parses_or_fails_in_one_line(text):
    ops = one_line_error(nb201.parse_arch_str, text)
    if ops is not None:
        assert nb201.format_arch_str(ops) == text.strip() or len(ops) == 6


GENOTYPES = darts.sample_genotypes(4_096, 0)  # one draw (~50 ms, as for one genotype)


@SETTINGS
@given(st.integers(0, len(GENOTYPES) - 1))
def test_genotypes_round_trip(i):
    genotype = GENOTYPES[i]
    text = darts.format_genotype(genotype)
    np.testing.assert_array_equal(darts.parse_genotype(text), genotype)


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(
            st.tuples(st.sampled_from([*darts.GENOTYPE_OPS, "conv", ""]), st.integers(-2, 6)),
            max_size=10,
        ).map(str),
    )
)
def test_any_genotype_text_parses_or_fails_in_one_line(text):
    genotype = one_line_error(darts.parse_genotype, text)
    if genotype is not None:
        assert genotype.shape == (4, 2, 2) and darts.check_genotypes(genotype[None]).all()


@SETTINGS
@given(st.text(alphabet="0123456789abcdefx-+ {}", max_size=40))
def test_any_cell_name_locates_or_fails_in_one_line(text):
    index = one_line_error(NB201.locate, text)
    if index is not None:
        assert 0 <= index < 15_625


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 100)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
SPEC_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["s", "my-space", "a b", ""]) | JSON,
        "ops": st.lists(st.sampled_from(["a", "b", "c", "input"]), max_size=4) | JSON,
        "ops_on": st.sampled_from(["nodes", "edges", "x"]) | JSON,
        "edges": st.lists(st.lists(st.integers(-1, 4), min_size=2, max_size=2), max_size=5) | JSON,
        "max_nodes": st.integers(0, 9) | JSON,
        "max_edges": st.integers(0, 12) | JSON,
        "hash": st.sampled_from(["wl", "exact", "md5"]) | JSON,
        "op_counts": st.dictionaries(st.sampled_from(["a", "z"]), JSON, max_size=2) | JSON,
        "pool": st.fixed_dictionaries(
            {}, optional={"mode": JSON | st.just("sample"), "samples": JSON, "seed": JSON}
        )
        | JSON,
        "extra": JSON,
    },
)


@SETTINGS
@given(SPEC_FIELDS)
def test_any_spec_validates_or_fails_in_one_line_naming_a_field(data):
    spec = one_line_error(SpaceSpec.from_dict, data, "spec")
    if spec is not None:
        assert SpaceSpec.from_dict(spec.to_dict()) == spec  # a valid spec round-trips


OP_NAMES = st.text(alphabet='ab1-_.+|~ ,"{}[]', min_size=1, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(OP_NAMES, min_size=2, max_size=3, unique=True),
    st.sampled_from(["edges", "nodes"]),
)
def test_every_spec_that_loads_round_trips_its_names_through_a_results_table(
    tmp_path_factory, ops, kind
):
    """Op names are refused when the spec loads, or every cell's exported name reads back as
    that cell from a results table (issue 19)."""
    data = {"name": "p", "ops": ops, "ops_on": kind}
    data.update(
        {"edges": [[0, 1], [1, 2]]} if kind == "edges" else {"max_nodes": 4, "max_edges": 5}
    )
    spec = one_line_error(SpaceSpec.from_dict, data, "spec")
    if spec is None:
        return
    folder = tmp_path_factory.mktemp("rt")
    space = spaces.get("p", data_dir=folder, spec=data)
    names = space.to_native(space.all())
    names = [n if isinstance(n, str) else json.dumps(n) for n in names]
    buffer = text_io.StringIO()
    csv.writer(buffer).writerows([["arch", "reward"], *[[n, 50] for n in names]])
    (folder / "r.csv").write_text(buffer.getvalue())
    table = benchmarks.load("table", file=folder / "r.csv", space=space)
    assert len(table.pool) == len(names)
    assert space.locate_many(names).tolist() == list(range(len(names)))


@SETTINGS
@given(st.lists(st.lists(st.text(max_size=12), min_size=2, max_size=3), max_size=6))
def test_any_results_csv_loads_or_fails_in_one_line(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv") / "r.csv"
    buffer = text_io.StringIO()
    csv.writer(buffer).writerows([["arch", "reward"], *rows])
    path.write_text(buffer.getvalue())
    bench = one_line_error(lambda: benchmarks.load("table", file=path, space=NB201))
    if bench is not None:
        covered = bench.search[bench.pool]
        assert len(bench.pool) == len([r for r in rows if r]) and (0 <= covered).all()
        assert (covered <= 100).all()


@SETTINGS
@given(st.lists(st.one_of(JSON.map(json.dumps), st.text(max_size=30)), max_size=8))
def test_any_runs_file_reads_only_well_formed_runs(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("runs")
    (folder / "runs.jsonl").write_text("\n".join(lines) + "\n")
    for run, row in read_runs(folder).items():
        assert isinstance(run, int) and all(k in row for k in RUN_KEYS)
        assert all(len(row[k]) == len(row["index"]) for k in RUN_KEYS[2:])


@SETTINGS
@given(
    st.one_of(st.floats(), st.integers(-5, 5), st.text(max_size=5), st.none()), st.integers(-2, 3)
)
def test_a_budget_is_valid_or_fails_in_one_line(seconds, queries):
    def make():
        return Budget(seconds if seconds is not None else None, queries if queries else None)

    budget = one_line_error(make)
    if budget is not None:
        assert budget.seconds is None or (0 < budget.seconds < float("inf"))
        assert budget.queries is None or budget.queries >= 1


@pytest.mark.parametrize("text", ["[]", "[('sep_conv_3x3', 0)] * 8", "__import__('os')"])
def test_genotype_text_is_a_literal_not_code(text):
    assert one_line_error(darts.parse_genotype, text) is None
