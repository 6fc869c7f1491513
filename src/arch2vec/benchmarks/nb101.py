"""NAS-Bench-101 benchmarks: the official TFRecord (all cells) and the 30,001-cell JSON subsets.

Both are joined to the enumerated space (:class:`arch2vec.spaces.nb101.NB101Space`) by the
official module hash, so their arrays follow the space's pool order.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from arch2vec.benchmarks.base import Benchmark
from arch2vec.spaces.nb101 import NB101Space

SUBSET_FILES = ("nb101_subset_1k.json", "nb101_subset_10k.json", "nb101_subset_20k.json")
SUBSET_EPOCHS = (4, 12, 36, 108)


def _subset_paths(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        paths = [path / name for name in SUBSET_FILES if (path / name).is_file()]
        if not paths:
            raise ValueError(f"{path}: holds none of {', '.join(SUBSET_FILES)}")
        return paths
    if not path.is_file():
        raise ValueError(f"{path}: no such file or directory")
    return [path]


def _load_subset(path: Path) -> dict[str, list]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not readable JSON ({e})") from None
    need = ["key", "final_training_time"] + [
        f"{e}_final_validation_accuracy" for e in SUBSET_EPOCHS
    ]
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of columns")
    for column in need:
        if column not in data or not isinstance(data[column], list):
            raise ValueError(f"{path}: no column {column!r}")
        if len(data[column]) != len(data["key"]):
            raise ValueError(
                f"{path}: column {column!r} has {len(data[column])} rows, "
                f"'key' has {len(data['key'])}"
            )
    return data


def from_subsets(path: str | Path, space: NB101Space | None = None) -> Benchmark:
    """``nb101-30k``: 108-epoch validation accuracy and training time of the labelled cells.

    ``path`` is a JSON file or a folder of them (column-oriented, keyed by official hash). The
    search reward and the reported validation accuracy are the 108-epoch validation accuracy;
    there is no test accuracy. Lower fidelities ``4``, ``12``, ``36`` and ``108`` epochs, their
    cost the 108-epoch training time scaled by epochs / 108.
    """
    space = space or NB101Space()
    n = len(space.all())
    acc = {e: np.full(n, np.nan) for e in SUBSET_EPOCHS}
    time108 = np.full(n, np.nan)
    for file in _subset_paths(path):
        data = _load_subset(file)
        index = space.index_of(data["key"])
        if (index < 0).any():
            row = int(np.flatnonzero(index < 0)[0])
            raise ValueError(
                f"{file}, row {row}, column key: {data['key'][row]!r} is not a NAS-Bench-101 hash"
            )
        for e in SUBSET_EPOCHS:
            column = f"{e}_final_validation_accuracy"
            try:
                values = 100 * np.asarray(data[column], dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{file}, column {column}: non-numeric values") from None
            bad = np.flatnonzero(~((values >= 0) & (values <= 100)))
            if len(bad):
                raise ValueError(
                    f"{file}, row {bad[0]}, column {column}: {values[bad[0]] / 100!r} is not an "
                    "accuracy (a fraction, 0..1)"
                )
            acc[e][index] = values
        try:
            seconds = np.asarray(data["final_training_time"], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{file}, column final_training_time: non-numeric values") from None
        bad = np.flatnonzero(~(np.isfinite(seconds) & (seconds >= 0)))
        if len(bad):
            raise ValueError(f"{file}, row {bad[0]}, column final_training_time: not seconds >= 0")
        time108[index] = seconds
    return Benchmark(
        name="nb101-30k",
        space="nb101",
        dataset="cifar10",
        search=acc[108],
        valid=acc[108].copy(),
        test=np.full(n, np.nan),
        cost=time108,
        source="NAS-Bench-101 subsets (30,001 labelled cells; not the full space)",
        fidelities={str(e): (acc[e], time108 * e / 108) for e in SUBSET_EPOCHS},
    )


def from_tfrecord(path: str | Path, space: NB101Space | None = None) -> Benchmark:
    """``nb101``: the official ``nasbench_only108.tfrecord``, mean of the three repeats at 108
    epochs: search reward and reported validation accuracy = validation accuracy, test accuracy,
    cost = training time."""
    from arch2vec.benchmarks.nb101_tfrecord import read_nb101

    space = space or NB101Space()
    rows = read_nb101(path, epochs=108, progress=True)
    index = space.index_of(rows["hash"])
    if (index < 0).any():
        bad = rows["hash"][int(np.flatnonzero(index < 0)[0])]
        raise ValueError(f"{path}: hash {bad} is not in the NAS-Bench-101 space")
    n = len(space.all())

    def spread(values: np.ndarray, scale: float = 1.0) -> np.ndarray:
        out = np.full(n, np.nan)
        out[index] = np.asarray(values, dtype=np.float64) * scale
        return out

    return Benchmark(
        name="nb101",
        space="nb101",
        dataset="cifar10",
        search=spread(rows["valid_accuracy"], 100),
        valid=spread(rows["valid_accuracy"], 100),
        test=spread(rows["test_accuracy"], 100),
        cost=spread(rows["train_seconds"]),
        source=f"{Path(path).name}: 108 epochs, mean of the repeats",
    )
