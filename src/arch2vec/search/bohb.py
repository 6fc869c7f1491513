"""BOHB through Optuna: its TPE sampler with its Hyperband pruner (Optuna's BOHB counterpart).

Nothing of BOHB is implemented here; Optuna (``pip install optuna``) samples and prunes. The
search parameters are the categorical positions of
:class:`~arch2vec.search.evolution.CellEncoding` (``op<node>``, ``e<src>_<dst>``), sampled by a
multivariate :class:`optuna.samplers.TPESampler` seeded from the strategy's ``rng``.

**Fidelities.** The lower fidelities are the entries of ``benchmark.fidelities`` (passed as the
hyper-parameter ``benchmark``, read ONLY for those rewards and costs) that are cheaper than the
benchmark's search reward (median cost ratio < 1 over the candidates): e.g. ``4``, ``12``, ``36``
epochs for ``nb101-30k`` (whose ``108`` is the search reward itself). They are Hyperband's rungs
by rank: the ``k``-th cheapest is reported as step ``eta**k`` and the full fidelity is
``max_resource = eta**K``, which for nb101-30k with ``eta`` 3 mirrors the epochs 4/12/36/108.
With no ``benchmark`` or no cheaper fidelity (the embedded ``nb201``; ``nb201-csv`` CIFAR-10,
whose search reward already is its cheapest fidelity ``12``) the pruner is off and BOHB is plain
TPE on the full fidelity.

**One ``ask``.** Optuna proposes a trial; a trial that decodes to no candidate, or to a cell this
strategy already proposed or evaluated, is told ``FAIL`` and re-asked (at most ``max_tries``
times). Otherwise the cell is evaluated at each lower fidelity in turn, cheapest first: its
reward is reported at that rung and its cost is added to :attr:`BOHB.extra_cost` (each fidelity
is a separate training run, as the benchmark's data are); if Optuna prunes it, the trial is told
``PRUNED`` and a new one is asked (at most ``max_pruned`` per ``ask``). A trial that survives
every rung is returned as the pool index to evaluate at full fidelity, and ``tell`` completes it
with the search reward. When the limits are hit, a random unvisited candidate is enqueued as a
trial and returned without lower-fidelity evaluations. Optuna's public API does not tell a
trial's Hyperband bracket, so trials of the higher brackets are evaluated (and charged) at the
rungs below their first decision too.

**Cost.** Only full-fidelity evaluations pass through the runner; the seconds of lower-fidelity
evaluations accumulate in :attr:`BOHB.extra_cost`, which the runner must add to the spent
budget after every ``ask``. They use no query budget, so compare BOHB by seconds.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from arch2vec.benchmarks.base import Benchmark
from arch2vec.search.base import SearchProblem, Strategy
from arch2vec.search.evolution import CellEncoding
from arch2vec.search.random import sample_unvisited

STUDY_NAME = "arch2vec-bohb"
"""Fixed study name: Optuna's Hyperband derives each trial's bracket from it (reproducibility)."""


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ImportError("strategy bohb needs Optuna: pip install optuna") from None
    return optuna


def lower_fidelities(
    benchmark: Benchmark | None, candidates: np.ndarray
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(name, reward, cost)`` of the fidelities cheaper than the search reward, cheapest first."""
    if benchmark is None or not benchmark.fidelities:
        return []
    candidates = np.asarray(candidates, dtype=np.int64)
    search_cost = benchmark.cost[candidates]
    found = []
    for name, (reward, cost) in benchmark.fidelities.items():
        reward, cost = np.asarray(reward, dtype=np.float64), np.asarray(cost, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = cost[candidates] / search_cost
        ratio = ratio[np.isfinite(ratio)]
        if len(ratio) and float(np.median(ratio)) < 1 - 1e-9:
            found.append((float(np.median(ratio)), name, reward, cost))
    found.sort(key=lambda f: f[0])
    return [(name, reward, cost) for _, name, reward, cost in found]


class BOHB(Strategy):
    """Optuna's TPE + Hyperband over the discrete encoding (see the module docstring)."""

    name = "bohb"

    def __init__(
        self,
        problem: SearchProblem,
        rng: np.random.Generator,
        *,
        benchmark: Benchmark | None = None,
        eta: int = 3,
        n_startup_trials: int = 10,
        max_tries: int = 100,
        max_pruned: int = 100,
    ) -> None:
        super().__init__(
            problem,
            rng,
            eta=eta,
            n_startup_trials=n_startup_trials,
            max_tries=max_tries,
            max_pruned=max_pruned,
        )
        optuna = _optuna()
        if eta < 2 or n_startup_trials < 0 or max_tries < 1 or max_pruned < 1:
            raise ValueError(
                "bohb: need eta >= 2, n_startup_trials >= 0, max_tries >= 1, max_pruned >= 1"
            )
        self._state = optuna.trial.TrialState
        self.encoding = CellEncoding.of(problem)
        self.keys = self.encoding.position_names()
        self.distributions = {
            key: optuna.distributions.CategoricalDistribution(tuple(range(int(k))))
            for key, k in zip(self.keys, self.encoding.num_choices.tolist(), strict=True)
        }
        self.fidelities = lower_fidelities(benchmark, problem.candidates)
        self.steps = [int(eta) ** k for k in range(len(self.fidelities))]
        self.max_tries = int(max_tries)
        self.max_pruned = int(max_pruned)
        self.extra_cost = 0.0
        """Seconds of lower-fidelity evaluations so far (the runner adds them to the budget)."""
        self.low_fidelity_evaluations = 0
        optuna.logging.set_verbosity(max(optuna.logging.get_verbosity(), logging.WARNING))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                n_startup_trials=int(n_startup_trials),
                multivariate=True,
                seed=int(rng.integers(2**31 - 1)),
            )
        if self.fidelities:
            pruner = optuna.pruners.HyperbandPruner(
                min_resource=1,
                max_resource=int(eta) ** len(self.fidelities),
                reduction_factor=int(eta),
            )
        else:
            pruner = optuna.pruners.NopPruner()
        self.study = optuna.create_study(
            direction="maximize", sampler=sampler, pruner=pruner, study_name=STUDY_NAME
        )
        self.seen: set[int] = set()  # proposed at full fidelity or evaluated at a lower one
        self.pending: dict[int, Any] = {}

    def _survives(self, trial: Any, index: int) -> bool:
        """Evaluate ``index`` at each lower fidelity; False as soon as Optuna prunes it."""
        for step, (_, reward, cost) in zip(self.steps, self.fidelities, strict=True):
            value, seconds = float(reward[index]), float(cost[index])
            if np.isnan(value):
                continue
            self.extra_cost += seconds if np.isfinite(seconds) else 0.0
            self.low_fidelity_evaluations += 1
            trial.report(value, step)
            if trial.should_prune():
                return False
        return True

    def ask(self) -> np.ndarray:
        failed = pruned = 0
        while failed < self.max_tries and pruned < self.max_pruned:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. Optuna's notes on multivariate TPE
                trial = self.study.ask(self.distributions)
            codes = np.array([trial.params[key] for key in self.keys], dtype=np.int64)
            index = int(self.encoding.lookup(codes[None])[0])
            if index < 0 or index in self.seen:
                self.study.tell(trial, state=self._state.FAIL)
                failed += 1
                continue
            self.seen.add(index)
            if self._survives(trial, index):
                self.pending[index] = trial
                return np.array([index], dtype=np.int64)
            self.study.tell(trial, state=self._state.PRUNED)
            pruned += 1
        found = sample_unvisited(self.problem, self.rng, self.seen, 1)
        if len(found) == 0:
            return found
        index = int(found[0])
        codes = self.encoding.codes_of([index], self.rng)[0]
        self.study.enqueue_trial(dict(zip(self.keys, codes.tolist(), strict=True)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.pending[index] = self.study.ask(self.distributions)
        self.seen.add(index)
        return found

    def tell(self, indices: np.ndarray, rewards: np.ndarray) -> None:
        for index, reward in zip(
            np.asarray(indices).tolist(), np.asarray(rewards).tolist(), strict=True
        ):
            trial = self.pending.pop(int(index), None)
            if trial is not None:
                self.study.tell(trial, float(reward))
