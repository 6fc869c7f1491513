"""Evaluators: cells in, search reward and cost out -- for spaces no table covers (DARTS).

A tabular :class:`~arch2vec.benchmarks.base.Benchmark` looks results up; an :class:`Evaluator`
computes them (a surrogate model's prediction, or real training). Both report the search reward
in percent and the cost in seconds. An evaluation may fail (a crashed or lost training job): its
reward is NaN and ``error`` says why, so failures are recorded, never silently dropped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arch2vec.spaces.cells import Cells


@dataclass
class Evaluation:
    """Results of evaluating a batch of ``B`` cells, aligned with the batch."""

    reward: np.ndarray  # (B,) search reward in percent; NaN where the evaluation failed
    cost: np.ndarray  # (B,) seconds the evaluation took (simulated or measured)
    info: list[dict[str, Any]] = field(default_factory=list)  # per cell: extra metrics
    error: list[str | None] = field(default_factory=list)  # per cell: why it failed, or None

    def __post_init__(self) -> None:
        self.reward = np.asarray(self.reward, dtype=np.float64)
        self.cost = np.asarray(self.cost, dtype=np.float64)
        n = len(self.reward)
        if self.cost.shape != (n,):
            raise ValueError(f"evaluation: {n} rewards but cost of shape {self.cost.shape}")
        if not self.info:
            self.info = [{} for _ in range(n)]
        if not self.error:
            self.error = [None] * n
        if len(self.info) != n or len(self.error) != n:
            raise ValueError(f"evaluation: info/error must have one entry per cell ({n})")

    @property
    def ok(self) -> np.ndarray:
        """``(B,)`` bool: the cells whose evaluation succeeded."""
        return np.isfinite(self.reward)


class Evaluator(ABC):
    """Evaluates cells of one space. Subclasses set ``name`` and ``space``."""

    name: str = "evaluator"
    space: str = ""

    @abstractmethod
    def evaluate(self, cells: Cells) -> Evaluation:
        """Evaluate a batch of cells (the space's DAG arrays)."""

    def describe(self) -> dict[str, Any]:
        """What produced the numbers (recorded beside results)."""
        return {"evaluator": self.name, "space": self.space}
