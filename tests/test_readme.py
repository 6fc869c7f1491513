"""The README's Python examples run as written (every ```python block, in order, one namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


@pytest.mark.slow
def test_readme_python_examples_run(nb101_space, tmp_path, monkeypatch, capsys):
    assert len(BLOCKS) >= 4
    monkeypatch.setenv("ARCH2VEC_DATA", str(nb101_space.data_dir))  # NB-101 enumerated once
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    for k, block in enumerate(BLOCKS):
        exec(compile(block, f"README.md python block {k + 1}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "(15625, 16)" in out and "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|" in out
