"""Evaluators: the one source of rewards during search -- cells in, reward and cost out.

A table benchmark is an evaluator (:class:`~arch2vec.evaluators.table.TableEvaluator`: it looks
results up, its costs are known in advance); so are the NAS-Bench-301 surrogate and real training
(they compute results, costs are known afterwards). Every evaluator reports the search reward in
percent and the cost in seconds. An evaluation may fail (a crashed or lost training job): its
reward is NaN and ``error`` says why, so failures are recorded, never silently dropped.

Writing your own: subclass :class:`Evaluator`, set ``name`` and ``space`` (the name of the space
whose cells it scores) and implement :meth:`Evaluator.evaluate`; register it with
``arch2vec.evaluators.register(name, cls)`` to use it by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from arch2vec.spaces.cells import Cells


@dataclass
class Evaluation:
    """Results of evaluating a batch of ``B`` cells, aligned with the batch.

    ``valid`` / ``test``: the accuracies a source reports after full training (percent), where it
    has them (tables); the search records them beside the best cell, strategies never see them.
    """

    reward: np.ndarray  # (B,) search reward in percent; NaN where the evaluation failed
    cost: np.ndarray  # (B,) seconds the evaluation took (simulated or measured)
    info: list[dict[str, Any]] = field(default_factory=list)  # per cell: extra metrics
    error: list[str | None] = field(default_factory=list)  # per cell: why it failed, or None
    valid: np.ndarray | None = None
    test: np.ndarray | None = None

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
        for name in ("valid", "test"):
            value = getattr(self, name)
            value = np.full(n, np.nan) if value is None else np.asarray(value, dtype=np.float64)
            if value.shape != (n,):
                raise ValueError(f"evaluation: {name} of shape {value.shape}, expected ({n},)")
            setattr(self, name, value)

    @property
    def ok(self) -> np.ndarray:
        """``(B,)`` bool: the cells whose evaluation succeeded."""
        return np.isfinite(self.reward)


class Evaluator(ABC):
    """Evaluates cells of one space. Subclasses set ``name`` and ``space``.

    Class attributes an evaluator may set:

    - ``fidelities``: names of the lower fidelities it offers, cheapest first (e.g. ``("4",
      "12", "36")`` epochs); a strategy that uses them (BOHB) asks for them by name;
    - ``slow``: one evaluation takes long (real training): a search records every evaluation at
      once and can send the evaluations of a batch to parallel workers;
    - ``needs_cells``: :meth:`evaluate` reads the cells (False for a table, which reads indices);
    - ``lookup``: results are looked up (a table): evaluations are free and never fail. Otherwise
      a search evaluates cell by cell, retrying one that raises, writes every evaluation to a
      per-run file as it finishes, and a resumed run replays them.
    """

    name: ClassVar[str] = "evaluator"
    space: ClassVar[str] = ""
    fidelities: tuple[str, ...] = ()
    slow: ClassVar[bool] = False
    needs_cells: ClassVar[bool] = True
    lookup: ClassVar[bool] = False

    @abstractmethod
    def evaluate(
        self, cells: Cells | None, *, indices: np.ndarray | None = None, fidelity: str | None = None
    ) -> Evaluation:
        """Evaluate a batch of cells (the space's DAG arrays) whose pool indices are ``indices``,
        at ``fidelity`` (None: the search reward)."""

    def candidates(self, num_cells: int) -> np.ndarray | None:
        """The pool indices this evaluator can score (None: every cell of the pool)."""
        return None

    def check_space(self, space: Any) -> None:
        """A one-line error unless this evaluator scores the cells of ``space`` (a
        SearchSpace). One that reads cells by content needs its space's name; a table, which
        reads pool indices, the space's fingerprint (:class:`~.table.TableEvaluator`)."""
        if self.space and self.space != space.name:
            raise ValueError(f"evaluator {self.name} scores {self.space} cells, not {space.name}")

    def cost_of(self, indices: np.ndarray, fidelity: str | None = None) -> np.ndarray | None:
        """The costs of evaluating ``indices``, if known before evaluating (tables); else None."""
        return None

    def optimum(self) -> dict[str, float | None]:
        """The best search reward, validation and test accuracy over the pool (percent), where
        known (tables): what regret is measured against."""
        return {"search": None, "valid": None, "test": None}

    def describe(self) -> dict[str, Any]:
        """What produced the numbers (recorded beside results)."""
        return {"evaluator": self.name, "space": self.space}
