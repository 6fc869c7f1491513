"""Examples ship with the package (issue 22): the example specs and the rewards script of
docs/user-spaces.md are package data and a module, found by name (``spaces.example_spec``,
``arch2vec space spec NAME``), so the worked example runs wherever arch2vec is installed -- here
from a wheel built from the source, unpacked outside the repository."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest

from arch2vec import spaces
from arch2vec.cli import main
from arch2vec.spaces.spec import SpaceSpec, _toml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "user-spaces.md"
NAMES = ["cell6", "nb101", "nb201"]


def test_the_specs_are_found_by_name():
    assert spaces.example_specs() == NAMES
    for name in NAMES:
        path = spaces.example_spec(name)
        assert path.is_file() and path.name == f"{name}.toml"
        assert SpaceSpec.load(path).name.startswith(name)
    assert spaces.example_spec("cell6").parent == Path(spaces.__file__).parent / "specs"
    for bad in ("cell7", "cell6.toml", "../spec", ""):
        with pytest.raises(ValueError, match=r"unknown example spec .*known: cell6, nb101, nb201"):
            spaces.example_spec(bad)


def test_export_spec_copies_byte_for_byte_and_keeps_an_existing_file(tmp_path):
    out = spaces.export_spec("nb201", tmp_path / "sub" / "mine.toml")
    assert out.read_bytes() == spaces.example_spec("nb201").read_bytes()
    out.write_text("mine")
    with pytest.raises(ValueError, match=r"mine.toml: already exists \(overwrite=True"):
        spaces.export_spec("nb201", out)
    assert out.read_text() == "mine"
    spaces.export_spec("nb201", out, overwrite=True)
    assert out.read_bytes() == spaces.example_spec("nb201").read_bytes()


def test_space_spec_writes_the_packaged_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["space", "spec", "cell6", "--out", "cell6.toml"]) == 0
    assert (tmp_path / "cell6.toml").read_bytes() == spaces.example_spec("cell6").read_bytes()
    assert main(["space", "spec", "nb101"]) == 0  # default: NAME.toml, here
    assert (tmp_path / "nb101.toml").read_bytes() == spaces.example_spec("nb101").read_bytes()
    capsys.readouterr()
    assert main(["space", "spec"]) == 0  # no NAME: the list, with descriptions
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == NAMES
    assert "made-up" in lines[0] and "NAS-Bench-101" in lines[1]


def test_space_spec_refuses_an_unknown_name_in_one_line(tmp_path, capsys):
    out = tmp_path / "x.toml"
    assert main(["space", "spec", "cell7", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["arch2vec: error: unknown example spec 'cell7'; known: cell6, nb101, nb201"]
    assert not out.exists()
    assert main(["space", "spec", "--out", str(out)]) == 2  # --out without a NAME
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("arch2vec: error: --out") and "cell6" in err[0]


def test_space_spec_refuses_to_overwrite_unless_asked(tmp_path, capsys):
    out = tmp_path / "cell6.toml"
    out.write_text("my edits")
    assert main(["space", "spec", "cell6", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"arch2vec: error: {out}: already exists (--overwrite replaces it)"]
    assert out.read_text() == "my edits"
    assert main(["space", "spec", "cell6", "--out", str(out), "--overwrite"]) == 0
    assert out.read_bytes() == spaces.example_spec("cell6").read_bytes()


def test_the_package_data_declares_every_spec_and_one_copy_is_kept():
    folder = resources.files("arch2vec.spaces").joinpath("specs")
    files = sorted(f.name for f in folder.iterdir() if f.name.endswith(".toml"))
    assert files == [f"{name}.toml" for name in NAMES]
    pyproject = _toml().loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["arch2vec"]
    for name in files:
        assert any(fnmatch.fnmatch(f"spaces/specs/{name}", g) for g in globs), (name, globs)
    # the one copy: none left where the docs used to keep them
    assert not list((ROOT / "docs").glob("spaces/*.toml"))
    assert not (ROOT / "examples" / "cell6_rewards.py").exists()
    for path in [ROOT / "README.md", ROOT / "BENCHMARKS.md", *(ROOT / "docs").glob("*.md")]:
        assert "docs/spaces/" not in path.read_text(), path


def doc_commands() -> list[list[str]]:
    (block,) = re.findall(r"^```bash\n(.*?)^```", DOC.read_text(), flags=re.S | re.M)
    return [shlex.split(line) for line in block.splitlines() if line.strip()]


def test_the_worked_example_names_no_file_of_the_repository():
    commands = doc_commands()
    assert commands[0] == ["arch2vec", "space", "spec", "cell6", "--out", "cell6.toml"]
    assert ["python", "-m", "arch2vec.examples.cell6_rewards"] == commands[2][:3]
    for argv in commands:
        assert argv[0] in ("arch2vec", "python")
        assert not any(a.startswith(("docs/", "examples/", "src/")) for a in argv), argv


# Runs in a fresh interpreter whose arch2vec comes from the unpacked wheel: the doc's commands,
# ``arch2vec ...`` through the command line's entry point, ``python -m ...`` as runpy does.
DRIVER = r"""
import json, runpy, sys
import arch2vec
from arch2vec.cli import main
site, commands = sys.argv[1], json.loads(sys.argv[2])
assert arch2vec.__file__.startswith(site), arch2vec.__file__
for argv in commands:
    if argv[0] == "python":
        sys.argv = argv[2:]
        runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
    else:
        assert main(argv[1:]) == 0, argv
print("worked example done")
"""


@pytest.mark.slow
def test_the_worked_example_runs_from_a_built_wheel_outside_the_repository(tmp_path):
    source = tmp_path / "source"  # what a wheel is built from: no docs/, tests/, runs/ ...
    shutil.copytree(ROOT / "src" / "arch2vec", source / "src" / "arch2vec", ignore=_junk)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-c", "import setuptools.build_meta as b; print(b.build_wheel('dist'))"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = source / "dist" / built.stdout.split()[-1]
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        assert {f"arch2vec/spaces/specs/{n}.toml" for n in NAMES} <= names
        assert "arch2vec/examples/cell6_rewards.py" in names
        site = tmp_path / "site"
        z.extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    # the doc's commands up to a tiny pre-training and a tiny random search (the rest, and the
    # doc as written, run in-process from an empty folder: test_docs_examples.py)
    commands = []
    for argv in doc_commands():
        if argv[:2] == ["arch2vec", "pretrain"]:
            argv += ["--epochs", "1", "--batch-size", "2048"]  # the doc's: 5 epochs of 32
        if argv[:2] == ["arch2vec", "search"]:
            if "random" not in argv:
                continue
            argv[argv.index("--runs") + 1] = "1"
            argv[argv.index("--budget-queries") + 1] = "12"
            argv += ["--workers", "1"]
        if argv[:3] == ["arch2vec", "bench", "info"] or argv[1] == "report":
            continue
        commands.append([*argv, "-q"] if argv[0] == "arch2vec" else argv)
    assert [a[1] if a[0] == "arch2vec" else a[2] for a in commands] == [
        "space",
        "space",
        "arch2vec.examples.cell6_rewards",
        "pretrain",
        "search",
    ]
    env = {"PYTHONPATH": str(site), "ARCH2VEC_DATA": str(tmp_path / "cache"), "PATH": "/usr/bin"}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(site), json.dumps(commands)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "worked example done" in done.stdout
    assert (work / "cell6.toml").read_bytes() == spaces.example_spec("cell6").read_bytes()
    assert "wrote 22,830 of 28,538 cells" in done.stdout and "cells       28,538" in done.stdout
    assert (work / "runs/cell6/pretrain/metrics.json").is_file()
    summary = json.loads((work / "runs/cell6/random/summary.json").read_text())
    assert summary["space"] == "cell6" and summary["best"]["cell"]["ops"][0] == "input"


def _junk(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or n.endswith(".egg-info")]
