"""The worked example of docs/user-spaces.md runs as written, from a copy of the repository's
docs/ and examples/ (its commands run from the repository root)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "user-spaces.md"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", DOC.read_text(), flags=re.S | re.M)


def test_user_space_example_runs_as_written(tmp_path, monkeypatch):
    for folder in ("docs", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    env = {"ARCH2VEC_DATA": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    (commands,) = blocks("bash")
    lines = [line for line in commands.splitlines() if line.strip()]
    assert len(lines) == 7
    for line in lines:
        argv = shlex.split(line)
        head = [sys.executable] if argv[0] == "python" else [sys.executable, "-m", "arch2vec.cli"]
        done = subprocess.run(
            head + argv[1:], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"{line}\n{done.stderr}"
    bo = json.loads((tmp_path / "runs/cell6/bo/summary.json").read_text())
    rs = json.loads((tmp_path / "runs/cell6/random/summary.json").read_text())
    assert bo["final_regret_mean"] < rs["final_regret_mean"]  # the latent space helps here
    assert bo["best"]["cell"]["ops"][0] == "input"
    assert "best cell" in (tmp_path / "runs/cell6/report/report.md").read_text()
    (python,) = blocks("python")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARCH2VEC_DATA", str(tmp_path / "cache"))
    python = python.replace("fit()", "fit(cells=space.all()[:2000])")  # keep the test short
    exec(compile(python, str(DOC), "exec"), {"__name__": "doc"})
