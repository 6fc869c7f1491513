"""The worked example of docs/user-spaces.md runs as written, in an empty folder outside the
repository with only the package (its commands: ``arch2vec ...`` through the command line's entry
point in this process, ``python -m ...`` as a subprocess; its Python: in this process, and the
script with worker processes as a script)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from arch2vec.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "user-spaces.md"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", DOC.read_text(), flags=re.S | re.M)


@pytest.mark.slow
def test_user_space_example_runs_as_written(tmp_path, monkeypatch):
    env = {"ARCH2VEC_DATA": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARCH2VEC_DATA", env["ARCH2VEC_DATA"])
    (commands,) = blocks("bash")
    lines = [line for line in commands.splitlines() if line.strip()]
    assert len(lines) == 8
    for line in lines:
        argv = shlex.split(line)
        if argv[0] == "python":
            assert argv[1] == "-m"  # a module of the package, no file of the repository
            done = subprocess.run(
                [sys.executable, *argv[1:]],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, f"{line}\n{done.stderr}"
            continue
        assert argv[0] == "arch2vec"
        # keep the test short (the default is 5 epochs of pre-training here, 10 runs of search)
        if argv[1] == "pretrain":
            argv += ["--epochs", "1"]
        if argv[1] == "search":
            argv[argv.index("--runs") + 1] = "4"
        assert main(argv[1:]) == 0, line  # the command line's entry point, in this process
    bo = json.loads((tmp_path / "runs/cell6/bo/summary.json").read_text())
    rs = json.loads((tmp_path / "runs/cell6/random/summary.json").read_text())
    assert bo["final_regret_mean"] < rs["final_regret_mean"]  # the latent space helps here
    assert bo["best"]["cell"]["ops"][0] == "input"
    assert "best cell" in (tmp_path / "runs/cell6/report/report.md").read_text()
    python, script = blocks("python")
    # keep the test short: 2,000 cells for one epoch, 2 runs
    python = python.replace("seed=0).fit()", "seed=0, epochs=1).fit(cells=space.all()[:2000])")
    python = python.replace("runs=10", "runs=2")
    assert "epochs=1" in python and "runs=2" in python
    exec(compile(python, str(DOC), "exec"), {"__name__": "doc"})
    # the script with worker processes, as a script (the workers re-import it): 2 short runs
    assert 'if __name__ == "__main__":' in script and "workers=2" in script
    script = script.replace("runs=10", "runs=2").replace("budget_queries=100", "budget_queries=20")
    assert "runs=2" in script and "budget_queries=20" in script
    (tmp_path / "search_cell6.py").write_text(script)
    done = subprocess.run(
        [sys.executable, "search_cell6.py"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "runs/cell6/bo-script/summary.json").read_text())
    assert summary["runs"] == 2 and summary["failures"] == 0
