"""Tabular benchmarks: per-cell accuracies and training cost behind one vectorised query API.

A :class:`Benchmark` holds, for one space and dataset, arrays indexed by the space's *pool index*:

- ``search``: the reward a search strategy observes (percent), e.g. 12-epoch validation accuracy;
- ``valid`` / ``test``: the reported validation and test accuracy after full training (percent,
  NaN where the source has none);
- ``cost``: seconds of training needed to obtain ``search``.

Cells a source does not cover are NaN in ``search``; :attr:`Benchmark.pool` lists the covered
ones. Accuracies are percentages (0-100) throughout. A search reads a benchmark through
:class:`~arch2vec.evaluators.table.TableEvaluator`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(eq=False)
class Benchmark:
    name: str
    space: str
    dataset: str
    search: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    cost: np.ndarray
    source: str = ""
    fidelities: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Lower fidelities: name -> (reward %, cost s), aligned with the pool like ``search``."""
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    """Further per-cell metrics of the source (e.g. analog hardware accuracies)."""
    origin: dict[str, Any] = field(default_factory=dict)
    """How it was loaded (``benchmark``, ``dataset``, ``file``): recorded beside results."""
    space_fingerprint: str | None = None
    """The fingerprint of the space whose pool indices index the arrays
    (:meth:`~arch2vec.spaces.base.SearchSpace.fingerprint`; set by ``benchmarks.load``)."""

    def __post_init__(self) -> None:
        n = len(self.search)
        for name in ("search", "valid", "test", "cost"):
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.shape != (n,):
                raise ValueError(f"benchmark {self.name}: {name} has shape {arr.shape}, not ({n},)")
            setattr(self, name, arr)
        self.pool = np.flatnonzero(~np.isnan(self.search))
        if len(self.pool) == 0:
            raise ValueError(f"benchmark {self.name}: covers no cell")

    def __len__(self) -> int:
        return len(self.search)

    def check_space(self, space: Any) -> None:
        """A one-line error unless ``space`` (a SearchSpace) is the space this table's rows are
        the pool of: the same fingerprint (the same name where the table has none)."""
        if self.space_fingerprint is not None:
            if space.fingerprint() != self.space_fingerprint:
                raise ValueError(
                    f"benchmark {self.name} holds the cells of {self.space} (fingerprint "
                    f"{self.space_fingerprint}), not those of {space.describe()}: its rows "
                    "would land on other cells"
                )
        elif space.name != self.space or len(space.all()) != len(self):
            raise ValueError(
                f"benchmark {self.name} holds the {len(self)} cells of {self.space}, not the "
                f"{len(space.all())} cells of {space.name}"
            )

    @property
    def best_search(self) -> float:
        return float(np.nanmax(self.search))

    @property
    def best_valid(self) -> float:
        return float(np.nanmax(self.valid)) if not np.isnan(self.valid).all() else float("nan")

    @property
    def best_test(self) -> float:
        return float(np.nanmax(self.test)) if not np.isnan(self.test).all() else float("nan")

    def covers(self, indices) -> np.ndarray:
        idx = np.asarray(indices)
        ok = (idx >= 0) & (idx < len(self))
        out = np.zeros(idx.shape, dtype=bool)
        out[ok] = ~np.isnan(self.search[idx[ok]])
        return out

    def query(self, indices) -> dict[str, np.ndarray]:
        """Vectorised lookup: ``search``, ``valid``, ``test`` (percent) and ``cost`` (s)."""
        idx = np.asarray(indices, dtype=np.int64)
        bad = ~self.covers(idx)
        if bad.any():
            first = int(idx.ravel()[np.flatnonzero(bad.ravel())[0]])
            raise ValueError(f"benchmark {self.name}: cell {first} is not covered")
        return {
            "search": self.search[idx],
            "valid": self.valid[idx],
            "test": self.test[idx],
            "cost": self.cost[idx],
        }

    def info(self) -> dict[str, Any]:
        def stats(a: np.ndarray) -> dict[str, float] | None:
            a = a[self.pool]
            if np.isnan(a).all():
                return None
            return {
                "min": round(float(np.nanmin(a)), 4),
                "mean": round(float(np.nanmean(a)), 4),
                "max": round(float(np.nanmax(a)), 4),
            }

        return {
            "benchmark": self.name,
            "space": self.space,
            "dataset": self.dataset,
            "source": self.source,
            "space_fingerprint": self.space_fingerprint,
            "cells_covered": len(self.pool),
            "cells_in_space": len(self),
            "coverage": round(len(self.pool) / len(self), 4),
            "search_accuracy": stats(self.search),
            "valid_accuracy": stats(self.valid),
            "test_accuracy": stats(self.test),
            "cost_seconds": stats(self.cost),
            "fidelities": sorted(self.fidelities),
            "extras": {k: stats(v) for k, v in self.extras.items()},
            "best_search_accuracy": _known(self.best_search),
            "best_valid_accuracy": _known(self.best_valid),
            "best_test_accuracy": _known(self.best_test),
        }

    def row(self, index: int) -> dict[str, float | None]:
        """Every column the source has for pool cell ``index``: search / validation / test
        accuracy (percent), cost (seconds), the fidelities (``reward_<f>``, ``cost_<f>``: e.g.
        the validation accuracy after 4, 12, 36 and 108 epochs) and extras (params, latency, ...;
        null where absent)."""
        if not self.covers([index])[0]:
            raise ValueError(f"benchmark {self.name}: cell {index} is not covered")
        out = {
            "search_accuracy": _known(self.search[index]),
            "valid_accuracy": _known(self.valid[index]),
            "test_accuracy": _known(self.test[index]),
            "cost_seconds": _known(self.cost[index]),
        }
        for name, (reward, cost) in self.fidelities.items():
            out[f"reward_{name}"] = _known(np.asarray(reward)[index])
            out[f"cost_{name}"] = _known(np.asarray(cost)[index])
        for name, values in self.extras.items():
            out[name] = _known(values[index])
        return out


def _known(value: float) -> float | None:
    return None if value != value else round(float(value), 4)
