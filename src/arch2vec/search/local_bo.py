"""arch2vec-LBO: arch2vec-BO that alternates global and local expected improvement, and screens
its choices at the evaluator's cheapest fidelity.

Not the paper's strategy (that is :class:`~arch2vec.search.bo.ArchBO`, kept as published); ours,
chosen by measurement (BENCHMARKS.md, "A search on the embeddings that wins"). Per iteration,
after ``init`` random cells:

1. **The surrogate** is arch2vec-BO's: a one-hidden-layer network on the pre-trained arch2vec
   embeddings, retrained on the observed rewards, its hidden layer the basis of a Bayesian linear
   regression; the acquisition is expected improvement over the incumbent.
2. **Global and local turns.** Every ``local_every``-th (2nd) iteration is *local*: the
   candidates are the unvisited cells within ``radius`` (1) edits (the discrete encoding of
   :class:`~arch2vec.search.discrete.CellEncoding`: an op, or an adjacency bit) of the
   ``local_top`` (1) best cells observed; the other iterations score the whole pool as
   arch2vec-BO does. Where the neighbourhood holds no unvisited candidate (a sampled pool such
   as DARTS, where a cell a few edits away is rarely in the pool), the local candidates are the
   ``latent_neighbours`` unvisited cells nearest to those best cells in the embedding instead.
   The local turns refine the region the embedding's surrogate found (the best NB-201 cells lie
   within two edits of each other), while the global turns keep exploring. Measured on NB-201
   CIFAR-100 (100 runs): the one best cell at one edit reached the optimum in every run, the
   three best at two edits in 95 (73.493 ± 0.000 against 73.461 ± 0.185); on ImageNet16-120
   46.706 ± 0.102 against 46.714 ± 0.085.
3. **Screening at a lower fidelity.** Where the evaluator offers lower fidelities
   (``fidelities``, cheapest first, as BOHB takes them: NB-201 CIFAR-100 and ImageNet16-120
   offer the 12-epoch accuracy), the ``screen`` x ``top_k`` candidates of largest EI are first
   evaluated at the cheapest one (a :class:`~arch2vec.search.base.Request`: charged to the budget,
   not queries of the search) and the ``top_k`` best of them by that reward are proposed at full
   fidelity (ties, and failed low-fidelity evaluations, by EI order). A candidate is screened
   once; its low-fidelity reward is remembered. Without lower fidelities (CIFAR-10, whose search
   reward already is its 12-epoch accuracy; NB-101 tables, the NB-301 surrogate) the best EI is
   proposed directly.

A cell is never proposed twice at full fidelity; a NaN reward is a failure (the cell is visited
and never proposed again, and does not enter the surrogate); a run is deterministic for its seed.
The surrogate reads frozen embeddings: fine-tuning the encoder on the observed cells, or an
ensemble of networks, measured no better on NB-201 and cost 3x more (BENCHMARKS.md).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from arch2vec.search.base import Items, Range, Request
from arch2vec.search.bo import ArchBO
from arch2vec.search.discrete import CellEncoding
from arch2vec.spaces.base import SearchSpace

MAX_NEIGHBOURS = 200_000
"""Code vectors looked up per local turn at most (radius 3 on NB-101 would ask for ~90k per
cell): beyond it the turn stops growing the neighbourhood at the radius it reached."""


def one_edit(encoding: CellEncoding, codes: np.ndarray) -> np.ndarray:
    """Every code vector one edit away from a row of ``codes`` (one position changed to each of
    its other values), ``(B * M, P)`` with ``M = sum(num_choices - 1)``, in a fixed order."""
    codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
    k = encoding.num_choices
    pos = np.repeat(np.arange(len(k)), k - 1)
    step = np.concatenate([np.arange(1, int(c)) for c in k])
    offsets = np.zeros((len(pos), len(k)), dtype=np.int64)
    offsets[np.arange(len(pos)), pos] = step
    out = (codes[:, None, :] + offsets[None]) % k
    return out.reshape(-1, len(k))


def neighbourhood(
    encoding: CellEncoding, codes: np.ndarray, radius: int, limit: int = MAX_NEIGHBOURS
) -> np.ndarray:
    """Sorted pool indices of the candidate cells within ``radius`` edits of ``codes`` (the rows
    themselves excluded where they are candidates only through a zero-edit path)."""
    frontier = np.unique(np.atleast_2d(codes), axis=0)
    seen = {row.tobytes() for row in frontier}
    found: set[int] = set()
    looked = 0
    for _ in range(radius):
        step = one_edit(encoding, frontier)
        fresh = [row for row in np.unique(step, axis=0) if row.tobytes() not in seen]
        if not fresh or looked + len(fresh) > limit:
            break
        frontier = np.array(fresh)
        seen.update(row.tobytes() for row in frontier)
        looked += len(frontier)
        found.update(int(i) for i in encoding.lookup(frontier).tolist() if i >= 0)
    return np.array(sorted(found), dtype=np.int64)


class ArchLocalBO(ArchBO):
    """arch2vec-LBO (see the module docstring). Parameters (keywords), beside arch2vec-BO's
    (``top_k``, ``epochs``, ``lr``, ``hidden``, ``activation``, ``ei_target``, ``log_bounds``,
    ``max_scored``, which apply to the global turns):

    - ``init`` (8): random distinct candidates proposed before the surrogate is used;
    - ``local_every`` (2): every ``local_every``-th EI iteration is local (0: never, which with
      ``screen=1`` is arch2vec-BO);
    - ``local_top`` (1): the best observed cells whose neighbourhood a local turn scores;
    - ``radius`` (1): edits from those cells;
    - ``screen`` (4): candidates screened at the cheapest lower fidelity per proposed cell (1:
      no screening);
    - ``latent_neighbours`` (64): where no unvisited candidate lies within ``radius`` edits, a
      local turn scores the cells this many nearest in the embedding to each best cell instead
      (0: the turn is global);
    - ``fidelities`` (()): the evaluator's lower fidelities, cheapest first (``search.run``
      passes the evaluator's).
    """

    name = "arch2vec-lbo"
    ranges = {
        **ArchBO.ranges,
        "local_every": Range(int, 0, 10**6),
        "local_top": Range(int, 1, 10**6),
        "radius": Range(int, 1, 4),
        "screen": Range(int, 1, 1000),
        "latent_neighbours": Range(int, 0, 10**6),
        "fidelities": Items(),
    }

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        init: int = 8,
        local_every: int = 2,
        local_top: int = 1,
        radius: int = 1,
        screen: int = 4,
        latent_neighbours: int = 64,
        fidelities: tuple[str, ...] | list[str] = (),
        **common: Any,
    ) -> None:
        super().__init__(space, init=init, **common)
        self.local_every = int(local_every)
        self.local_top = int(local_top)
        self.radius = int(radius)
        self.screen = int(screen)
        self.latent_neighbours = int(latent_neighbours)
        self.fidelities = tuple(str(f) for f in fidelities)
        self.encoding = CellEncoding.of(self.problem) if self.local_every else None
        self._is_candidate = np.zeros(len(self.visited), dtype=bool)  # by pool index
        self._is_candidate[self.candidates] = True
        self.low: dict[int, float] = {}  # pool index -> its reward at the cheapest fidelity
        self.low_fidelity_evaluations = 0
        self._pending: np.ndarray | None = None  # screened candidates, best EI first
        self._step = 0  # EI iterations so far

    @property
    def screening(self) -> bool:
        return bool(self.fidelities) and self.screen > 1

    def local_candidates(self) -> np.ndarray:
        """Unvisited candidates within ``radius`` edits of the ``local_top`` best observed cells."""
        y = np.asarray(self.rewards, dtype=np.float64)
        order = np.lexsort((np.arange(len(y)), -y))[: self.local_top]  # best first, then oldest
        top = np.asarray(self.observed, dtype=np.int64)[order]
        assert self.encoding is not None  # local_every > 0: the local turns have it
        near = neighbourhood(self.encoding, self.encoding.codes_of(top, self.rng), self.radius)
        near = near[self._is_candidate[near] & ~self.visited[near]]
        if len(near) or not self.latent_neighbours:
            return near
        return self._latent_neighbours(top)

    def _latent_neighbours(self, top: np.ndarray) -> np.ndarray:
        """The ``latent_neighbours`` unvisited candidates nearest (Euclidean, in the standardised
        embedding) to each cell of ``top``: a sampled pool (DARTS) rarely holds a cell a few edits
        away, but always cells near in the latent space."""
        x = self._candidate_inputs()[:, :-1]
        free = np.flatnonzero(~self.visited[self.candidates])
        k = min(self.latent_neighbours, len(free))
        if k == 0:
            return np.empty(0, dtype=np.int64)
        found: set[int] = set()
        x_free = x[free]
        for cell in top.tolist():
            d = np.square(x_free - self._x[cell]).sum(axis=1)
            nearest = np.argpartition(d, k - 1)[:k]
            found.update(self.candidates[free[nearest]].tolist())
        return np.array(sorted(found), dtype=np.int64)

    def ask(self) -> np.ndarray | Request:
        if self._pending is not None:
            return self._resolve()
        if len(self.observed) < self.init:
            return super().ask()  # the random start
        n_free = int(np.count_nonzero(~self.visited[self.candidates]))
        if n_free == 0:
            return np.empty(0, dtype=np.int64)
        self._step += 1
        basis, y_mean, y_std = self.fit()
        target = self._target(y_mean, y_std)
        k = min(self.top_k, n_free)
        want = k * self.screen if self.screening else k
        picked = None
        if self.local_every and self._step % self.local_every == 0:
            near = self.local_candidates()
            if len(near):
                picked = self._select_exact(basis, target, near, min(want, len(near)))
        if picked is None:
            picked = self._best_of_pool(basis, target, min(want, n_free))
        if not self.screening or len(picked) <= k:
            return self._propose(picked[:k])
        self._pending = picked
        todo = np.array([i for i in picked.tolist() if i not in self.low], dtype=np.int64)
        if len(todo):
            return Request(todo, self.fidelities[0])
        return self._resolve()

    def _resolve(self) -> np.ndarray:
        """Propose the ``top_k`` screened candidates of best low-fidelity reward (EI order breaks
        ties; a failed or missing evaluation ranks last)."""
        picked, self._pending = self._pending, None
        assert picked is not None  # ask() resolves only what it has screened
        low = np.array([self.low.get(int(i), -math.inf) for i in picked])
        order = np.lexsort((np.arange(len(picked)), -low))
        k = min(self.top_k, len(picked))
        return self._propose(picked[order[:k]])

    def tell(self, indices: np.ndarray, rewards: np.ndarray, fidelity: str | None = None) -> None:
        if fidelity is None:
            super().tell(indices, rewards)
            return
        indices = np.asarray(indices, dtype=np.int64)
        rewards = np.asarray(rewards, dtype=np.float64)
        for i, r in zip(indices.tolist(), rewards.tolist(), strict=True):
            self.low[i] = r if math.isfinite(r) else -math.inf
            self.low_fidelity_evaluations += 1
