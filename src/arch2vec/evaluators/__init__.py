"""Evaluators: the sources of rewards during search (tables, the NB-301 surrogate, training).

``evaluators.make(name, **options)`` builds a registered evaluator (``nb301``: the surrogate,
``surrogate_dir=...``; ``train``: training on CIFAR-10, ``data=...``);
``evaluators.from_benchmark(...)`` wraps a tabular benchmark;
``evaluators.register(name, factory)`` adds one.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from arch2vec.evaluators.base import Evaluation, Evaluator
from arch2vec.registry import Registry

EVALUATORS: Registry[Any] = Registry("evaluator")
EVALUATORS.register("nb301", "arch2vec.evaluators.nb301:NB301Evaluator", builtin=True)
EVALUATORS.register("train", "arch2vec.evaluators.darts.evaluator:TrainingEvaluator", builtin=True)

register = EVALUATORS.register


def make(name: str, **options: Any) -> Evaluator:
    """The evaluator ``name`` built with ``options`` (checked against its signature)."""
    factory = EVALUATORS[name]
    params = inspect.signature(factory).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        for key in options:
            if key not in params:
                raise ValueError(
                    f"evaluator {name} has no option {key!r} (it takes: {', '.join(params)})"
                )
    return factory(**options)


def from_benchmark(
    benchmark: str,
    dataset: str | None = None,
    file: str | Path | None = None,
    data_dir: str | Path | None = None,
    **options: Any,
) -> Evaluator:
    """The tabular benchmark ``benchmark`` (see :func:`arch2vec.benchmarks.load`, which takes
    ``options``) as an evaluator."""
    from arch2vec import benchmarks
    from arch2vec.evaluators.table import TableEvaluator

    return TableEvaluator(benchmarks.load(benchmark, dataset, file, data_dir, **options))


__all__ = ["EVALUATORS", "Evaluation", "Evaluator", "from_benchmark", "make", "register"]
