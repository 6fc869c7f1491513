"""An evaluator that trains DARTS cells on CIFAR-10: the search reward of the arch2vec paper.

**Search protocol.** :class:`TrainingEvaluator` defaults to the arch2vec paper's DARTS setting
(the authors' public training script): 50 epochs of the full-size network (20 layers, 36 initial
channels, batch 96, lr 0.025, cutout, auxiliary weight 0.4, drop path 0.2), trained on the first
90% of the CIFAR-10 training set and validated on the last 10% (``train_portion=0.5`` gives the
DARTS search split into halves); see :mod:`arch2vec.evaluators.darts.trainer`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from arch2vec.errors import one_line
from arch2vec.evaluators.base import Evaluation, Evaluator
from arch2vec.evaluators.darts.data import ImageData, as_image_data, cifar10_folder, data_pair
from arch2vec.evaluators.darts.network import as_genotype
from arch2vec.evaluators.darts.trainer import Log, check_training, train_cell
from arch2vec.spaces.cells import Cells
from arch2vec.spaces.darts import cells_to_genotypes, format_genotype


class TrainingEvaluator(Evaluator):
    """Evaluates DARTS cells by training them (:func:`train_cell`); see the module docstring.

    Data: ``data`` (a CIFAR-10 folder, ``(train, test)`` datasets or one training set), whose
    training set is split unshuffled into its first ``train_portion`` for training and the rest
    for validation; or an explicit ``train_data`` and ``valid_data``. Data load on first use.

    Per cell: reward = mean validation accuracy (percent) of the last ``last`` epochs, cost = the
    measured wall-clock seconds. A cell whose conversion or training raises gets reward NaN and
    the exception as its ``error``; the other cells of the batch are still trained. ``info`` holds
    the genotype, parameter count, per-epoch validation accuracies and, with ``test=True`` and a
    test set, the last epoch's test accuracy (``test_accuracy``).
    """

    name = "train"
    space = "darts"
    slow = True

    def __init__(
        self,
        data: str | Path | Sequence | ImageData | None = None,
        *,
        train_data: ImageData | Sequence | None = None,
        valid_data: ImageData | Sequence | None = None,
        test_data: ImageData | Sequence | None = None,
        train_portion: float = 0.9,
        test: bool = False,
        epochs: int = 50,
        layers: int = 20,
        channels: int = 36,
        batch_size: int = 96,
        lr: float = 0.025,
        cutout: bool = True,
        auxiliary_weight: float = 0.4,
        drop_path: float = 0.2,
        last: int = 5,
        seed: int = 0,
        device: str | torch.device = "auto",
        log: Log | None = None,
    ) -> None:
        if (data is None) == (train_data is None):
            raise ValueError("TrainingEvaluator: pass either data or train_data (and valid_data)")
        if train_data is not None and valid_data is None:
            raise ValueError("TrainingEvaluator: train_data needs valid_data")
        if not 0.0 < train_portion < 1.0:
            raise ValueError(
                f"TrainingEvaluator: train_portion must be in (0, 1), got {train_portion}"
            )
        check_training(**locals())
        if isinstance(data, (str, Path)):
            cifar10_folder(data)  # a wrong folder fails here, before any search starts
        self.data = data
        self._given = (train_data, valid_data, test_data)
        self._splits: tuple[ImageData, ImageData, ImageData | None] | None = None
        self.train_portion = float(train_portion)
        self.test = bool(test)
        self.config: dict[str, Any] = {
            "epochs": epochs,
            "layers": layers,
            "channels": channels,
            "batch_size": batch_size,
            "lr": lr,
            "cutout": cutout,
            "auxiliary_weight": auxiliary_weight,
            "drop_path": drop_path,
            "last": last,
            "seed": seed,
            "device": device,
        }
        self.log = log

    def splits(self) -> tuple[ImageData, ImageData, ImageData | None]:
        """``(train, valid, test)`` (loaded and split on first call; test may be None)."""
        if self._splits is None:
            if self.data is not None:
                full, test = data_pair(self.data, "TrainingEvaluator")
                cut = int(math.floor(self.train_portion * len(full)))
                if not 0 < cut < len(full):
                    raise ValueError(
                        f"TrainingEvaluator: {len(full)} images are too few to split "
                        f"at train_portion={self.train_portion}"
                    )
                self._splits = (full.subset(slice(0, cut)), full.subset(slice(cut, None)), test)
            else:
                tr, va, te = self._given
                assert tr is not None and va is not None  # __init__: without data, both given
                self._splits = (
                    as_image_data(tr, "training set"),
                    as_image_data(va, "validation set"),
                    None if te is None else as_image_data(te, "test set"),
                )
        return self._splits

    def _items(self, cells: Cells | np.ndarray | Sequence) -> list[Callable[..., np.ndarray]]:
        """One deferred genotype conversion per cell, so a bad cell fails alone."""
        if isinstance(cells, Cells):
            if cells.space not in ("", self.space):
                raise ValueError(f"TrainingEvaluator: cells of space {cells.space!r}, not darts")
            return [
                (lambda i=i: cells_to_genotypes(Cells(cells.adjacency[i], cells.ops[i]))[0])
                for i in range(len(cells))
            ]
        if isinstance(cells, np.ndarray) and cells.ndim == 4:
            return [(lambda g=g: as_genotype(g)) for g in cells]
        if isinstance(cells, (str, np.ndarray)):
            return [lambda: as_genotype(cells)]
        return [(lambda g=g: as_genotype(g)) for g in cells]

    def evaluate(
        self,
        cells: Cells | np.ndarray | Sequence | None,
        *,
        indices: np.ndarray | None = None,
        fidelity: str | None = None,
    ) -> Evaluation:
        """Train each cell: DAG ``Cells``, ``(B, 4, 2, 2)`` genotypes or a list of genotypes."""
        if fidelity is not None:
            raise ValueError(f"TrainingEvaluator has no lower fidelity {fidelity!r}")
        if cells is None:  # (needs_cells: a search gives them)
            raise TypeError("TrainingEvaluator: evaluate needs the cells, got None")
        items = self._items(cells)
        train, valid, test = self.splits()
        use_test = test if self.test else None
        n = len(items)
        reward = np.full(n, np.nan)
        cost = np.zeros(n)
        info: list[dict[str, Any]] = [{} for _ in range(n)]
        error: list[str | None] = [None] * n
        for i, item in enumerate(items):
            t0 = time.perf_counter()
            log = None
            if self.log is not None:

                def log(entry: dict[str, Any], i: int = i) -> None:
                    assert self.log is not None  # (checked: this closure exists only then)
                    self.log({"cell": i, **entry})

            try:
                g = item()
                info[i]["genotype"] = format_genotype(g)
                rec = train_cell(g, train, valid, test_data=use_test, log=log, **self.config)
            except Exception as exc:  # a failed cell is recorded, the batch goes on
                error[i] = one_line(exc)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
            else:
                reward[i] = rec["reward"]
                info[i].update(
                    params=rec["params"],
                    valid_accuracy=rec["valid_accuracy"],
                    train_loss=rec["train_loss"][-1],
                    wall_time=rec["wall_time"],
                )
                if rec["final_test_accuracy"] is not None:
                    info[i]["test_accuracy"] = rec["final_test_accuracy"]
                if not math.isfinite(reward[i]):
                    error[i] = "training produced no finite validation accuracy"
            cost[i] = time.perf_counter() - t0
        return Evaluation(reward, cost, info, error)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update({k: str(v) if k == "device" else v for k, v in self.config.items()})
        out["data"] = str(self.data) if isinstance(self.data, (str, Path)) else "arrays"
        out["train_portion"] = self.train_portion if self.data is not None else None
        out["reward"] = f"mean validation accuracy of the last {self.config['last']} epochs"
        return out
