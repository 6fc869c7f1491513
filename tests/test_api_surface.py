"""The API as others see it: lazy names visible to ``dir()`` and type checkers, ``py.typed``
shipped, options refused where a space does not take them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import arch2vec
from arch2vec import spaces

ROOT = Path(__file__).resolve().parents[1]
LAZY = {  # package -> the name of its table of lazy names
    "arch2vec": "_OBJECTS",
    "arch2vec.models": "_LAZY",
    "arch2vec.search": "_LAZY",
}


def _typing_imports(path: Path) -> dict[str, str]:
    """``name -> "module:attribute"`` of the imports under ``if TYPE_CHECKING:``."""
    out = {}
    for block in ast.parse(path.read_text()).body:
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING":
            for node in block.body:
                assert isinstance(node, ast.ImportFrom)
                for alias in node.names:
                    out[alias.asname or alias.name] = f"{node.module}:{alias.name}"
    return out


@pytest.mark.parametrize("package", sorted(LAZY))
def test_typing_imports_mirror_the_lazy_names_and_dir_shows_them(package):
    module = __import__(package, fromlist=["_"])
    lazy = getattr(module, LAZY[package])
    path = Path(module.__file__)
    typed = _typing_imports(path)
    assert {k: v for k, v in typed.items() if k in lazy} == lazy  # the same targets
    assert set(lazy) <= set(typed)
    assert set(lazy) <= set(dir(module)) and set(module.__all__) <= set(dir(module))


def test_dir_shows_the_public_api_without_importing_torch():
    code = (
        "import sys, arch2vec as a; import arch2vec.search as s; "
        "assert {'Arch2Vec', 'search', 'spaces'} <= set(dir(a)), dir(a); "
        "assert {'run', 'ArchBO', 'ArchLocalBO'} <= set(dir(s)); "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert "GAE" in dir(arch2vec)


def test_py_typed_is_in_the_package_and_declared():
    assert (Path(arch2vec.__file__).parent / "py.typed").is_file()
    data = (ROOT / "pyproject.toml").read_text().split("[tool.setuptools.package-data]")[1]
    assert '"py.typed"' in data.split("[")[1]  # arch2vec = ["py.typed", ...]


def test_spaces_refuse_options_they_do_not_take(tmp_path):
    assert spaces.options_of("darts") == ("samples", "seed")
    assert spaces.options_of("nb201") == ()
    with pytest.raises(ValueError, match=r"space nb201 has no option 'samples' \(it takes: no"):
        spaces.get("nb201", samples=50)
    with pytest.raises(ValueError, match="space darts has no option 'sample' .*samples, seed"):
        spaces.get("darts", data_dir=tmp_path, sample=50)
    with pytest.raises(ValueError, match="cell6.toml has no option 'seed'"):
        spaces.get(spaces.example_spec("cell6"), seed=1)
    assert spaces.get("nb201", samples=None).name == "nb201"  # None: not given
    assert spaces.get("darts", data_dir=tmp_path, samples=50, seed=3).options() == {
        "samples": 50,
        "seed": 3,
    }
