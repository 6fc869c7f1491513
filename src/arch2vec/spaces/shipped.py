"""The spec files that ship with arch2vec, inside the package (``arch2vec/spaces/specs/``):
``nb101`` and ``nb201`` (exactly the built-in spaces, written as specs) and ``cell6`` (the
made-up space of docs/user-spaces.md). They are found by name, wherever arch2vec is installed::

    spaces.example_specs()                       # ['cell6', 'nb101', 'nb201']
    space = spaces.get(spaces.example_spec("cell6"))
    spaces.export_spec("cell6", "cell6.toml")    # a copy to read or edit
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from arch2vec import io

SPEC_FOLDER = "specs"  # beside this module; pyproject's package data: spaces/specs/*.toml


def _folder() -> Any:
    return resources.files("arch2vec.spaces").joinpath(SPEC_FOLDER)


def example_specs() -> list[str]:
    """The names of the spec files that ship with arch2vec, sorted."""
    return sorted(f.name[: -len(".toml")] for f in _folder().iterdir() if f.name.endswith(".toml"))


def _resource(name: str) -> Any:
    known = example_specs()
    if not isinstance(name, str) or name not in known:
        raise ValueError(f"unknown example spec {name!r}; known: {', '.join(known)}")
    return _folder().joinpath(f"{name}.toml")


def example_spec(name: str) -> Path:
    """The path of the spec file ``name`` that ships with arch2vec (see :func:`example_specs`);
    it goes wherever a space name goes (``spaces.get(path)``). Where the package is not a
    folder of files (a zip), a copy in the data directory."""
    file = _resource(name)
    if isinstance(file, Path):
        return file
    copy = io.data_dir() / "specs" / f"{name}.toml"
    data = file.read_bytes()
    if not copy.is_file() or copy.read_bytes() != data:
        io.atomic_write_bytes(copy, data)
    return copy


def export_spec(name: str, path: str | Path, overwrite: bool = False) -> Path:
    """Write a copy of the spec file ``name`` that ships with arch2vec to ``path`` (byte for
    byte) and return ``path``. A file ``path`` that exists is kept unless ``overwrite``."""
    data = _resource(name).read_bytes()
    path = Path(path)
    if path.exists() and not overwrite:
        raise ValueError(f"{path}: already exists (overwrite=True replaces it)")
    io.atomic_write_bytes(path, data)
    return path
