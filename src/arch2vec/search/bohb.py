"""BOHB through Optuna: its TPE sampler with its Hyperband pruner (Optuna's BOHB counterpart).

Nothing of BOHB is implemented here; Optuna (``pip install optuna``) samples and prunes. The
search parameters are the categorical positions of
:class:`~arch2vec.search.discrete.CellEncoding` (``op<node>``, ``e<src>_<dst>``), sampled by a
multivariate :class:`optuna.samplers.TPESampler` seeded from the strategy's ``rng``.

**Fidelities.** ``fidelities`` names the evaluator's lower fidelities, cheapest first (a search
passes the evaluator's own, e.g. ``4``, ``12``, ``36`` epochs of ``nb101-30k``, whose ``108`` is
the search reward itself). They are Hyperband's rungs by rank: the ``k``-th cheapest is reported
as step ``eta**k`` and the full fidelity is ``max_resource = eta**K``, which for nb101-30k with
``eta`` 3 mirrors the epochs 4/12/36/108. Without lower fidelities (the embedded ``nb201``;
``nb201-csv`` CIFAR-10, whose search reward already is its cheapest fidelity ``12``; the NB-301
surrogate) the pruner is off and BOHB is plain TPE on the full fidelity.

**One proposal.** Optuna proposes a trial. A trial that decodes to no candidate (most of the
encoding where the pool is a sample of the space: nb101-30k holds 30,001 cells, the DARTS pool
600,000, of far larger encodings) is told ``FAIL`` and *projected*: the unvisited candidate nearest
to its codes in Hamming distance (ties drawn from ``rng``) is enqueued as the trial Optuna asks
next, so TPE models the cell that is evaluated. Without it (``project=False``, the behaviour before)
nearly every TPE sample on those pools misses and, after ``max_tries`` misses, a random cell is
taken: random search at a hundred TPE samples per proposal (BENCHMARKS.md, "BOHB on sampled
pools"). A trial that
decodes to a cell this strategy already proposed or evaluated is told ``FAIL`` and re-asked (at
most ``max_tries`` times). Otherwise the cell is asked for at each lower fidelity in turn, cheapest
first (one :class:`~arch2vec.search.base.Request` per ``ask``; the search charges its cost but does
not count it as a query): its reward is reported at that rung (a rung without a reward is skipped);
if Optuna prunes it, the trial is told ``PRUNED`` and a new one is asked (at most ``max_pruned``
per proposal). A trial that survives every rung is returned as the pool index to evaluate at full
fidelity, and ``tell`` completes it with the search reward. When the limits are hit, a random
unvisited candidate is enqueued as a trial and returned without lower-fidelity evaluations.
Optuna's public API does not tell a trial's Hyperband bracket, so trials of the higher brackets are
evaluated (and charged) at the rungs below their first decision too. Lower fidelities use no query
budget, so compare BOHB by seconds.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from arch2vec.search.base import Items, Range, Request, Strategy
from arch2vec.search.discrete import CellEncoding, sample_unvisited
from arch2vec.spaces.base import SearchSpace

STUDY_NAME = "arch2vec-bohb"
"""Fixed study name: Optuna's Hyperband derives each trial's bracket from it (reproducibility)."""


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ImportError("strategy bohb needs Optuna: pip install optuna") from None
    return optuna


class BOHB(Strategy):
    """Optuna's TPE + Hyperband over the discrete encoding (see the module docstring)."""

    name = "bohb"
    ranges = {
        "eta": Range(int, 2, 100),
        "n_startup_trials": Range(int, 0, 10**6),
        "max_tries": Range(int, 1, 10**6),
        "max_pruned": Range(int, 0, 10**6),
        "fidelities": Items(),
    }

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        fidelities: Sequence[str] = (),
        eta: int = 3,
        n_startup_trials: int = 10,
        max_tries: int = 100,
        max_pruned: int = 100,
        project: bool = True,
        **common: Any,
    ) -> None:
        super().__init__(space, **common)  # embeddings, candidates, seed
        optuna = _optuna()
        if eta < 2 or n_startup_trials < 0 or max_tries < 1 or max_pruned < 1:
            raise ValueError(
                "bohb: need eta >= 2, n_startup_trials >= 0, max_tries >= 1, max_pruned >= 1"
            )
        self._state = optuna.trial.TrialState
        self.encoding = CellEncoding.of(self.problem)
        self.keys = self.encoding.position_names()
        self.distributions = {
            key: optuna.distributions.CategoricalDistribution(tuple(range(int(k))))
            for key, k in zip(self.keys, self.encoding.num_choices.tolist(), strict=True)
        }
        self.fidelities = tuple(str(f) for f in fidelities)
        self.steps = [int(eta) ** k for k in range(len(self.fidelities))]
        self.max_tries = int(max_tries)
        self.max_pruned = int(max_pruned)
        if not isinstance(project, (bool, np.bool_)):
            raise ValueError(f"bohb: project must be True or False, got {project!r}")
        self.project = bool(project)
        self.low_fidelity_evaluations = 0
        optuna.logging.set_verbosity(max(optuna.logging.get_verbosity(), logging.WARNING))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                n_startup_trials=int(n_startup_trials),
                multivariate=True,
                seed=int(self.rng.integers(2**31 - 1)),
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
        self.projected = 0  # TPE samples outside the pool, projected onto a candidate
        self._codes: np.ndarray | None = None
        self._row = np.empty(0, dtype=np.int64)  # pool index -> candidate row
        self.seen: set[int] = set()  # proposed at full fidelity or evaluated at a lower one
        self.pending: dict[int, Any] = {}
        self._failed = self._pruned = 0  # of the proposal being made
        self._climbing: tuple[Any, int, int] | None = None  # (trial, index, rung) being evaluated
        self._survivor: tuple[Any, int] | None = None  # (trial, index) past every rung

    def _propose(self, trial: Any, index: int) -> np.ndarray:
        self.pending[index] = trial
        self._failed = self._pruned = 0
        return np.array([index], dtype=np.int64)

    def ask(self) -> np.ndarray | Request:
        if self._climbing is not None:
            _, index, rung = self._climbing
            return Request(np.array([index], dtype=np.int64), self.fidelities[rung])
        if self._survivor is not None:
            trial, index = self._survivor
            self._survivor = None
            return self._propose(trial, index)
        while self._failed < self.max_tries and self._pruned < self.max_pruned:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. Optuna's notes on multivariate TPE
                trial = self.study.ask(self.distributions)
            codes = np.array([trial.params[key] for key in self.keys], dtype=np.int64)
            index = int(self.encoding.lookup(codes[None])[0])
            if index in self.seen or (index < 0 and not self.project):
                self.study.tell(trial, state=self._state.FAIL)
                self._failed += 1
                continue
            if index < 0:
                self.study.tell(trial, state=self._state.FAIL)
                index = self._nearest(codes)
                if index < 0:
                    break
                trial = self._enqueue(self._candidate_codes(index))
                self.projected += 1
            self.seen.add(index)
            if not self.fidelities:
                return self._propose(trial, index)
            self._climbing = (trial, index, 0)
            return Request(np.array([index], dtype=np.int64), self.fidelities[0])
        self._failed = self._pruned = 0
        found = sample_unvisited(self.problem, self.rng, self.seen, 1)
        if len(found) == 0:
            return found
        index = int(found[0])
        self.pending[index] = self._enqueue(self.encoding.codes_of([index], self.rng)[0])
        self.seen.add(index)
        return found

    def _enqueue(self, codes: np.ndarray) -> Any:
        """The trial Optuna asks next, at ``codes`` (a candidate's)."""
        self.study.enqueue_trial(dict(zip(self.keys, np.asarray(codes).tolist(), strict=True)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.study.ask(self.distributions)

    def _pool_codes(self) -> np.ndarray:
        """Codes of every candidate (made at the first projection, from ``rng``)."""
        if self._codes is None:
            codes = self.encoding.codes_of(self.problem.candidates, self.rng)
            self._codes = codes.astype(np.int8 if codes.max(initial=0) < 128 else np.int64)
            self._row = np.full(len(self.problem.cells), -1, dtype=np.int64)
            self._row[self.problem.candidates] = np.arange(len(self.problem.candidates))
        return self._codes

    def _candidate_codes(self, index: int) -> np.ndarray:
        """The codes the projection gave the candidate ``index``."""
        pool = self._pool_codes()  # makes the pool index -> row map too
        return pool[self._row[index]]

    def _nearest(self, codes: np.ndarray) -> int:
        """The unvisited candidate nearest to ``codes`` (Hamming; ties from ``rng``), or -1."""
        pool = self._pool_codes()
        distance = (pool != codes.astype(pool.dtype)[None, :]).sum(axis=1, dtype=np.int64)
        if self.seen:
            seen = np.fromiter(self.seen, dtype=np.int64, count=len(self.seen))
            distance[self._row[seen]] = np.iinfo(np.int64).max
        best = np.flatnonzero(distance == distance.min())
        if distance[best[0]] == np.iinfo(np.int64).max:
            return -1
        return int(self.problem.candidates[best[int(self.rng.integers(len(best)))]])

    def _rung_result(self, index: int, value: float, fidelity: str) -> None:
        """The reward of the climbing trial's cell at its current rung."""
        if self._climbing is None or self._climbing[1] != index:
            return
        trial, _, rung = self._climbing
        if fidelity != self.fidelities[rung]:
            raise ValueError(f"bohb: told fidelity {fidelity!r}, asked {self.fidelities[rung]!r}")
        if not np.isnan(value):
            self.low_fidelity_evaluations += 1
            trial.report(value, self.steps[rung])
            if trial.should_prune():
                self.study.tell(trial, state=self._state.PRUNED)
                self._pruned += 1
                self._climbing = None
                return
        if rung + 1 < len(self.fidelities):
            self._climbing = (trial, index, rung + 1)
        else:
            self._climbing = None
            self._survivor = (trial, index)

    def tell(self, indices: np.ndarray, rewards: np.ndarray, fidelity: str | None = None) -> None:
        for index, reward in zip(
            np.asarray(indices).tolist(), np.asarray(rewards).tolist(), strict=True
        ):
            if fidelity is not None:
                self._rung_result(int(index), float(reward), fidelity)
                continue
            trial = self.pending.pop(int(index), None)
            if trial is not None and np.isfinite(reward):
                self.study.tell(trial, float(reward))
            elif trial is not None:  # a failed evaluation
                self.study.tell(trial, state=self._state.FAIL)
