"""A space is what it holds, not what it is called (issue 19): every space has a fingerprint of
its content, pre-training runs, embeddings, benchmarks and experiment configurations carry it,
and every join (benchmark x space, embeddings x space, resume x configuration) refuses a
mismatch in one line that names both sides."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from arch2vec import benchmarks, search, spaces
from arch2vec.cli import main
from arch2vec.models.embeddings import Embeddings
from arch2vec.spaces.spec import SpecSpace

NB201 = "8a2ac7322d3caf71"  # the built-in NB-201 space (its 15,625 hashes in canonical order)
NB101 = "55fcf44139c75404"  # the built-in NB-101 space (423,624 official hashes, pool order)
TRI = {"name": "tri", "ops": ["a", "b", "c"], "ops_on": "edges", "edges": [[0, 1], [0, 2], [1, 2]]}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fp")


def reordered(path: Path, name: str) -> Path:
    """The nb201 spec that ships with arch2vec with the op list reordered, named ``name``."""
    text = spaces.example_spec("nb201").read_text().replace('"nb201-spec"', f'"{name}"')
    text = text.replace(
        '["nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "none"]',
        '["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]',
    )
    path.write_text(text)
    return path


def test_the_builtin_fingerprints_and_what_they_depend_on(data_dir, nb101_space):
    assert spaces.get("nb201").fingerprint() == NB201
    assert nb101_space.fingerprint() == NB101
    assert spaces.get("nb201").info()["fingerprint"] == NB201
    # the name does not count; the cells, their order and the op names do
    tri = SpecSpace(TRI, data_dir=data_dir).fingerprint()
    assert SpecSpace({**TRI, "name": "other"}, data_dir=data_dir).fingerprint() == tri
    assert SpecSpace({**TRI, "ops": ["c", "b", "a"]}, data_dir=data_dir).fingerprint() != tri
    assert SpecSpace({**TRI, "ops": ["a", "b", "d"]}, data_dir=data_dir).fingerprint() != tri
    spec = spaces.get(str(spaces.example_spec("nb201")), data_dir=data_dir)  # the same hash set
    assert set(spec.hashes().tolist()) == set(spaces.get("nb201").hashes().tolist())
    assert spec.fingerprint() != NB201  # ... in another pool order, with other op names


def test_a_spec_takes_a_registered_name_only_holding_exactly_that_space(tmp_path, data_dir):
    path = reordered(tmp_path / "nb201.toml", "nb201")
    with pytest.raises(ValueError, match=f"registered space.*the registered nb201: {NB201}"):
        spaces.get(str(path), data_dir=data_dir).all()
    spaces.register("tri-registered", lambda data_dir=None: SpecSpace(TRI, data_dir=data_dir))
    try:
        same = SpecSpace({**TRI, "name": "tri-registered"}, data_dir=data_dir)
        assert len(same.all()) == 27  # the same content: accepted
        other = SpecSpace({**TRI, "name": "tri-registered", "ops": ["c", "b", "a"]}, data_dir)
        with pytest.raises(ValueError, match="field 'name'.*'tri-registered'"):
            other.all()
    finally:
        spaces.SPACES.unregister("tri-registered")


def test_the_issue_case_is_refused_from_the_command_line(tmp_path, capsys):
    """The spec named nb201 with reordered ops searched with --benchmark nb201 ran to exit 0
    with rewards on the wrong cells; now one line names both fingerprints. The same spec under
    a name of its own is refused by the benchmark x space join."""
    for name in ("nb201", "nb201-mine"):
        path = reordered(tmp_path / f"{name}.toml", name)
        argv = ["search", "--space", str(path), "--benchmark", "nb201", "--strategy", "random"]
        argv += ["--budget-queries", "5", "--runs", "1", "--out", str(tmp_path / name)]
        assert main([*argv, "--data-dir", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.startswith("arch2vec: error:")]
        assert len(lines) == 1 and "Traceback" not in err, err
        assert NB201 in lines[0] and "fingerprint" in lines[0], lines[0]
        assert not (tmp_path / name / "config.json").exists()


def test_embeddings_of_another_pool_are_refused_even_under_the_same_name(tmp_path, data_dir):
    builtin = spaces.get("nb201")
    spec = spaces.get(str(spaces.example_spec("nb201")), data_dir=data_dir)
    vectors = np.zeros((15_625, 4), np.float32)
    of_spec = Embeddings.of_space(spec, vectors)
    assert of_spec.meta["space_fingerprint"] == spec.fingerprint()
    of_spec.save(tmp_path / "e.npz")
    with pytest.raises(ValueError, match=f"not of nb201 \\(fingerprint {NB201}\\)"):
        Embeddings.read(tmp_path / "e.npz").check_space(builtin)
    renamed = Embeddings(vectors, "nb201", hash=spec.hashes(), meta=dict(of_spec.meta))
    with pytest.raises(ValueError, match="fingerprint"):
        renamed.check_space(builtin)  # the name says nb201, the content does not
    # files from before fingerprints: compared by their hashes
    old = Embeddings(vectors, "nb201", hash=spec.hashes())
    with pytest.raises(ValueError, match="not recorded"):
        old.check_space(builtin)
    assert Embeddings(vectors, "nb201", hash=builtin.hashes()).check_space(builtin) is not None
    # the same content under another name is the same space
    twin = SpecSpace({**TRI, "name": "twin"}, data_dir=data_dir)
    emb = Embeddings.of_space(SpecSpace(TRI, data_dir=data_dir), np.zeros((27, 2)))
    assert emb.check_space(twin).shape == (27, 2)


def test_benchmarks_carry_the_fingerprint_and_refuse_another_space(tmp_path, data_dir):
    bench = benchmarks.load("nb201")
    assert bench.space_fingerprint == NB201 and bench.info()["space_fingerprint"] == NB201
    spec = spaces.get(str(reordered(tmp_path / "r.toml", "r")), data_dir=data_dir)
    with pytest.raises(ValueError, match=f"holds the cells of nb201 \\(fingerprint {NB201}\\)"):
        benchmarks.load("nb201", space=spec)
    with pytest.raises(ValueError, match="not those of r from"):
        benchmarks.lookup(bench, "0", space=spec)
    with pytest.raises(ValueError, match="not those of r from"):
        search.run("random", bench, space=spec, budget_queries=3)
    tri = SpecSpace(TRI, data_dir=data_dir)
    (tmp_path / "t.csv").write_text("arch,reward\n0,50\n1,60\n")
    table = benchmarks.load("table", file=tmp_path / "t.csv", space=tri)
    assert table.space_fingerprint == tri.fingerprint()
    with pytest.raises(ValueError, match="not those of tri"):
        search.run("random", table, space=SpecSpace({**TRI, "ops": ["c", "b", "a"]}, data_dir))


def test_resume_refuses_an_experiment_of_another_space(tmp_path, capsys):
    out = tmp_path / "exp"
    argv = ["search", "--strategy", "random", "--budget-queries", "5", "--runs", "2"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["space"]["fingerprint"] == NB201
    config["config"]["space"]["fingerprint"] = "0123456789abcdef"
    (out / "config.json").write_text(json.dumps(config))
    assert main([*argv, "--runs", "3", "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "searched nb201 (fingerprint 0123456789abcdef), not nb201 (fingerprint " in err
    assert NB201 in err and len(json.loads(f"[{', '.join(open(out / 'runs.jsonl'))}]")) == 2


def test_a_pretraining_run_records_its_space_and_refuses_another(tmp_path, capsys):
    run = tmp_path / "run"
    spec = tmp_path / "tri.toml"
    spec.write_text(
        'name = "tri"\nops = ["a", "b", "c"]\nops_on = "edges"\nedges = [[0, 1], [0, 2], [1, 2]]\n'
    )
    argv = ["pretrain", "--space", str(spec), "--epochs", "1", "--out", str(run), "-q"]
    assert main([*argv, "--data-dir", str(tmp_path)]) == 0
    config = json.loads((run / "config.json").read_text())
    tri = SpecSpace(TRI, data_dir=tmp_path)
    assert config["space_fingerprint"] == tri.fingerprint()
    assert main(["embed", str(run), "-q"]) == 0
    emb = Embeddings.read(run / "embeddings.npz")
    assert emb.meta["space_fingerprint"] == tri.fingerprint()
    config["space_fingerprint"] = "0123456789abcdef"
    (run / "config.json").write_text(json.dumps(config))
    assert main(["evaluate", str(run), "--samples", "10"]) == 2
    err = capsys.readouterr().err
    assert "trained on space tri with fingerprint 0123456789abcdef" in err
    assert tri.fingerprint() in err and err.count("arch2vec: error:") == 1
