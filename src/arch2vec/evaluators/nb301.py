"""The NAS-Bench-301 surrogate as an evaluator of DARTS cells.

The surrogate itself, its files and the checks behind it: :mod:`arch2vec.benchmarks.nb301`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from arch2vec.benchmarks.nb301 import MAX_EPOCH, NB301Surrogate
from arch2vec.evaluators.base import Evaluation, Evaluator
from arch2vec.spaces import darts
from arch2vec.spaces.cells import Cells


class NB301Evaluator(Evaluator):
    """Reward: predicted validation accuracy (percent) after ``epoch`` epochs (98 = NAS-Bench-301's
    full run); cost: predicted training time of the run up to ``epoch`` (s). Cells that are not
    one DARTS genotype fail (NaN reward, zero cost, the broken rule in ``error``)."""

    name = "nb301"
    space = "darts"

    def __init__(
        self,
        surrogate_dir: str | Path | None = None,
        epoch: int = MAX_EPOCH,
        surrogate: NB301Surrogate | None = None,
        threads: int = 1,
    ) -> None:
        if surrogate is None:
            if surrogate_dir is None:
                raise ValueError("NB301Evaluator needs surrogate_dir or a surrogate")
            surrogate = NB301Surrogate(surrogate_dir, threads=threads)
        if not 1 <= int(epoch) <= MAX_EPOCH or int(epoch) != epoch:
            raise ValueError(f"NB301Evaluator: epoch must be an integer in 1..{MAX_EPOCH}")
        self.surrogate = surrogate
        self.epoch = int(epoch)

    def evaluate(
        self, cells: Cells | None, *, indices: np.ndarray | None = None, fidelity: str | None = None
    ) -> Evaluation:
        if cells is None:
            raise ValueError("NB301Evaluator: evaluate needs the cells")
        if fidelity is not None:
            raise ValueError(f"NB301Evaluator has no lower fidelity {fidelity!r}")
        n = len(cells)
        reward = np.full(n, np.nan)
        cost = np.zeros(n)
        info: list[dict[str, Any]] = [{} for _ in range(n)]
        error: list[str | None] = [None] * n
        checks = darts.validity_checks(cells)
        ok = checks.all(axis=1)
        for i in np.flatnonzero(~ok):
            broken = [darts.VALIDITY_RULES[r] for r in np.flatnonzero(~checks[i])]
            error[i] = f"not a DARTS genotype (fails {', '.join(broken) or 'num_nodes'})"
        good = np.flatnonzero(ok)
        if len(good):
            pred = self.surrogate.predict(darts.cells_to_genotypes(cells[good]), self.epoch)
            reward[good] = 100.0 * pred["val_accuracy"]
            cost[good] = np.maximum(pred["runtime"], 0.0)
            for k, i in enumerate(good):
                info[i] = {
                    "val_cross_entropy": float(pred["val_cross_entropy"][k]),
                    "runtime_increase": float(pred["runtime_increase"][k]),
                    "epoch": self.epoch,
                }
        return Evaluation(reward, cost, info, error)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), **self.surrogate.describe(), "epoch": self.epoch}
