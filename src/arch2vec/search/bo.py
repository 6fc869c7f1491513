"""arch2vec-BO: DNGO (a neural network + Bayesian linear regression) with expected improvement.

The strategy of Yan et al. 2020 (§3.3, Appendix A), written from the paper's description:

1. The first ``init`` proposals are distinct candidates drawn uniformly at random.
2. Each later iteration retrains, from scratch, a network with one hidden layer (``hidden`` = 128
   units, ``activation`` relu by default, tanh optional) on the observed (embedding,
   standardised reward) pairs: full batch, Adam, ``epochs`` epochs, learning rate ``lr``, mean
   squared error.
3. The hidden layer's outputs, plus a constant 1, are the basis of a Bayesian linear regression
   with weight prior N(0, 1/alpha) and noise precision beta. alpha and beta maximise the
   closed-form log evidence (scipy's bounded TNC on log alpha, log beta, analytic gradient).
4. The ``top_k`` candidates not yet visited with the largest expected improvement (with the
   predictive standard deviation) are proposed. (EI is computed exactly where it can matter:
   see Speed.)

Deliberate deviations from the paper and its reference code:

- The EI target defaults to the incumbent (best observed reward); the paper's fixed "best
  function value" (0.95 / 1.0 as a fraction) is ``ei_target=95`` / ``ei_target=100`` (percent).
- A visited cell (proposed before) is never proposed again; the reference code's visited set
  never matched, so it re-queried cells.
- The embedding dims are standardised over the candidate pool before entering the network (an
  affine map: it changes nothing the paper depends on, but keeps Adam's step size meaningful for
  embeddings of any scale).
- The basis gets a constant column (a bias), as in DNGO's output layer.
- log alpha and log beta are bounded to [-10, 10] (``log_bounds``), so an interpolating network
  cannot drive the noise precision to infinity; rewards are standardised, so the bounds are
  scale-free. The hyper-parameters are point estimates (no MCMC over them, unlike DNGO). With
  100 epochs the network interpolates the observations and beta sits at its upper bound (noise
  std 0.0067 reward standard deviations), so the bound acts as a noise floor.
- ``init`` random proposals come in one batch; EI proposals in batches of ``top_k``.
- The paper does not name the network's activation. ReLU is the default, measured against tanh
  with the Table 3 protocol, 500 runs each, validation / test: CIFAR-10 91.46 / 94.24 vs
  91.42 / 94.20; CIFAR-100 73.29 / 73.28 vs 73.10 / 73.10; ImageNet16-120 46.61 / 46.42 vs
  46.55 / 46.43 (paper: 91.41 / 94.18, 73.35 / 73.37, 46.34 / 46.27). With tanh, some CIFAR-100
  runs stayed in a poor region (5th percentile 71.41).
- A run is deterministic for the ``rng`` given: a NumPy generator seeded from it initialises
  the network.

Speed (one core). The network (:class:`~arch2vec.models.dngo.MLP`) is NumPy with a hand-written
gradient; the predictive variance projects only on the eigenvectors the observations inform
(:mod:`arch2vec.models.dngo`). Per iteration, without changing a decision:

- the network trains with ~20 NumPy calls per epoch instead of ~30, the same floating-point
  operations in the same order (bitwise the same weights); the evidence maximisation calls the
  C routine behind SciPy's TNC directly (bitwise the same optimum, a third of the time);
- the standardised embeddings are computed once per problem (the runs of one process share it),
  and the candidates' ``[x, 1]`` rows are stored contiguous, so no iteration gathers them;
- the ``top_k`` largest EI are found without the exact EI of every candidate
  (:meth:`ArchBO._select_screened`): one pass over the candidates in cache-sized blocks bounds
  each one's EI from above (float32: the hidden layer, the predictive mean as one product with
  the posterior mean weights, ``|phi|^2`` and the variance the most informed eigen-direction
  removes); the exact EI of the best-bounded ones sets a threshold; the few above it get a
  tighter bound (15 directions), and those still above it the exact EI -- the code that
  computed every candidate's before, whose float32 arithmetic the bounds' margins cover. A
  candidate left out could not have been chosen, so the decisions are those of exact EI over
  all candidates; where the bound cannot help (EI underflows, a quarter of the pool remains) EI
  is computed for all, as before.

Measured with ``python perf/bench_bo.py --baseline-src <previous src>`` (one core per run,
the same session; BENCHMARKS.md): NB-201 CIFAR-10 with the paper's protocol (about 100 queries)
0.85 s per run instead of 1.51 s (1.8x; 30 of 30 runs made the same decisions); the
600,000-cell DARTS pool, 100 queries, 10.9 s instead of 34.7 s (3.2x; 4 of 4 the same). What
remains is mostly the network's 100 epochs (NumPy call overhead) on NB-201, and on DARTS the
pass over all candidates (a float32 product as large as the hidden layer's, its ReLU, two
matrix-vector products and ``|phi|^2``). ``max_scored`` trades decisions for that pass: with
100,000 on DARTS, 2.95 s per run instead of 11.2 s, and a final regret (NB-301 surrogate, percent)
of 0.416 instead of 0.384 over 100 paired runs (difference 0.032 +- 0.014, Wilcoxon p = 0.02):
measurably worse, hence opt-in.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from arch2vec.models.dngo import (
    MLP,
    BayesianLinearRegression,
    expected_improvement,
    expected_improvement_bound,
)
from arch2vec.search.base import Choice, Items, Range, Request, SearchProblem, Strategy
from arch2vec.spaces.base import SearchSpace

_CHUNK = 65_536  # candidates per block when predicting (bounds memory on the 423k NB-101 pool)
_SCREEN_BLOCK = 2_048  # candidates per block of the screening pass: 1 MiB of hidden layer
_FIRST_DIRECTIONS = 1  # eigen-directions whose variance reduction the first bound counts
_SCREEN_DIRECTIONS = 15  # ... and the second, tighter one
_SCREEN_MIN = 4_096  # fewer unvisited candidates than this: exact EI for all (as cheap)
_SEEDS = 16  # best-bounded candidates whose exact EI sets the threshold
_MARGIN = 1e-3  # relative margin on the bound of EI (its float32 rounding is ~1e-6)
_INPUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # problem -> standardised inputs


class _NetBasis:
    """The regression basis of :class:`ArchBO`'s network: called with pool indices, the hidden
    layer of their standardised inputs plus a constant column, ``(B, hidden + 1)`` float32. It
    exposes the network, so :meth:`ArchBO._screen` can compute the basis of all candidates
    block by block."""

    def __init__(self, net: MLP, x: np.ndarray) -> None:
        self.net = net
        self.x = x

    def __call__(self, block: np.ndarray) -> np.ndarray:
        return self.net.hidden(self.x[block], bias=True)


class ArchBO(Strategy):
    """arch2vec-BO: DNGO surrogate on the embedding, expected improvement over unvisited cells.

    Parameters (keywords):

    - ``init`` (16): random distinct candidates proposed before the surrogate is used;
    - ``top_k`` (1): cells proposed per EI iteration (paper: 5 on NB-101, 1 on NB-201);
    - ``epochs`` (100), ``lr`` (1e-2): full-batch Adam training of the network, from scratch
      every iteration;
    - ``hidden`` (128): units of the single hidden layer, whose outputs (plus a bias column) are
      the regression basis;
    - ``activation`` ("relu"; or "tanh");
    - ``ei_target`` (None): EI's "best function value" as a reward in percent; None uses the best
      observed reward (the paper's 0.95 / 1.0 are 95 / 100);
    - ``log_bounds`` ((-10, 10)): bounds on log alpha and log beta;
    - ``max_scored`` (None): at most this many candidates scored per EI iteration. None scores
      every unvisited candidate (the paper's choice, and exact: see below). A number M splits
      a fixed random order of the candidates (seeded) into parts of at most M and scores one
      part per iteration, in turn, so the pool is covered every ``len(candidates) / M``
      iterations: the proposal is the best EI of that part, not of the whole pool. This
      CHANGES decisions, for speed on very large pools (the 600,000-cell DARTS pool:
      ``perf/bench_bo.py`` measures the cost and the best reward found).
    """

    name = "arch2vec-bo"
    random_start = "init"
    ranges = {
        "init": Range(int, 1, 10**6),
        "top_k": Range(int, 1, 10**6),
        "epochs": Range(int, 1, 10**6),
        "lr": Range(float, 0, 10, lo_open=True),
        "hidden": Range(int, 1, 65_536),
        "ei_target": Range(float, 0, 100, lo_open=True),
        "max_scored": Range(int, 1, 10**8),
        "activation": Choice(("relu", "tanh")),
        "log_bounds": Items(Range(float, -1e3, 1e3), length=2, increasing=True),
    }
    needs_embeddings = True

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        init: int = 16,
        top_k: int = 1,
        epochs: int = 100,
        lr: float = 1e-2,
        hidden: int = 128,
        activation: str = "relu",
        ei_target: float | None = None,
        log_bounds: tuple[float, float] = (-10.0, 10.0),
        max_scored: int | None = None,
        **common: Any,
    ) -> None:
        super().__init__(space, **common)  # embeddings, candidates, seed
        self.init = int(init)
        self.top_k = int(top_k)
        self.epochs = int(epochs)
        self.lr = float(lr)
        self.hidden = int(hidden)
        self.activation = str(activation)
        self.ei_target = None if ei_target is None else float(ei_target)
        if self.ei_target is not None and not math.isfinite(self.ei_target):
            raise ValueError(f"{self.name}: ei_target must be a finite reward, got {ei_target}")
        low, high = log_bounds
        self.log_bounds = (low, high)
        if self.init < 1 or self.top_k < 1 or self.epochs < 0:
            raise ValueError(f"{self.name}: init and top_k must be >= 1, epochs >= 0")
        self.max_scored = None if max_scored is None else int(max_scored)
        if self.max_scored is not None and self.max_scored < 1:
            raise ValueError(f"{self.name}: max_scored must be >= 1 (or None: all)")

        problem = self.problem
        self.candidates = np.asarray(problem.candidates, dtype=np.int64)
        self.visited = np.zeros(self._prepare_inputs(problem), dtype=bool)
        self.net_rng = np.random.default_rng(int(self.rng.integers(2**62)))  # initialisations
        self.observed: list[int] = []
        self.rewards: list[float] = []
        self.blr: BayesianLinearRegression | None = None
        self._parts: list[np.ndarray] | None = None  # max_scored: candidate positions per part
        self._xa_parts: np.ndarray | None = None  # max_scored: their inputs, part after part
        self._turn = 0  # max_scored: EI iterations so far

    def _prepare_inputs(self, problem: SearchProblem) -> int:
        """Set up the network's inputs of every cell; return the number of cells (pool size).

        Here: the embeddings, standardised over the candidates. A subclass that learns its own
        representation (:mod:`arch2vec.search.supervised`) reads the cells instead. They depend
        on the problem only, which the runs of one process share
        (:meth:`~arch2vec.search.base.SearchProblem.of`), so they are computed once per problem
        (the same arrays, read-only).
        """
        cached = _INPUTS.get(problem)
        if cached is None:
            feats = np.asarray(problem.features, dtype=np.float64)
            pool = feats[self.candidates]
            mu, sd = pool.mean(axis=0), pool.std(axis=0)
            sd[sd < 1e-12] = 1.0
            x = ((feats - mu) / sd).astype(np.float32)  # standardised over the candidates
            x.flags.writeable = False
            cached = _INPUTS[problem] = {"x": x}
        self._inputs = cached
        self._x = cached["x"]
        return len(self._x)

    def _candidate_inputs(self) -> np.ndarray:
        """``[x, 1]`` of the candidates, in candidate order, ``(len(candidates), d + 1)`` float32:
        contiguous rows for the screening pass (no gather), the constant column folds the first
        layer's bias into its matrix product. Made once per problem (or per strategy, where a
        subclass prepares inputs of its own)."""
        shared = getattr(self, "_inputs", None)
        cache = shared if shared is not None and shared["x"] is self._x else self.__dict__
        xa = cache.get("_xa")
        if xa is None:
            x = self._x[self.candidates]
            xa = np.empty((len(x), x.shape[1] + 1), dtype=np.float32)
            xa[:, :-1] = x
            xa[:, -1] = 1.0
            xa.flags.writeable = False
            cache["_xa"] = xa
        return xa

    def _unvisited(self) -> np.ndarray:
        return self.candidates[~self.visited[self.candidates]]

    def _propose(self, indices: np.ndarray) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64)
        self.visited[indices] = True
        return indices

    def _fit_network(self, indices: np.ndarray, ys: np.ndarray) -> Callable[[np.ndarray], Any]:
        """Train a fresh network on pool ``indices`` -> targets ``ys``; return the function that
        gives the regression basis of pool indices: hidden-layer outputs and a constant column,
        ``(B, hidden + 1)``, float32."""
        net = MLP(self._x.shape[1], self.hidden, self.activation, self.net_rng)
        net.fit(self._x[indices], ys, self.epochs, self.lr)
        return _NetBasis(net, self._x)

    def fit(self) -> tuple[Callable[[np.ndarray], Any], float, float]:
        """Train the network and the regression on all observations: the basis function of
        :meth:`_fit_network`, the reward mean and std."""
        y = np.asarray(self.rewards, dtype=np.float64)
        y_mean, y_std = float(y.mean()), float(y.std())
        y_std = y_std if y_std > 1e-12 else 1.0
        ys = (y - y_mean) / y_std
        idx = np.asarray(self.observed, dtype=np.int64)
        basis = self._fit_network(idx, ys)
        self.blr = BayesianLinearRegression(self.log_bounds).fit(basis(idx), ys)
        return basis, y_mean, y_std

    def _target(self, y_mean: float, y_std: float) -> float:
        best = max(self.rewards) if self.ei_target is None else self.ei_target
        return (best - y_mean) / y_std

    def _exact_ei(self, basis: Callable[[np.ndarray], Any], indices: np.ndarray, target: float):
        """EI of pool ``indices`` under the fitted model, in blocks of ``_CHUNK``."""
        blr = self.blr
        assert blr is not None  # fit() sets it
        out = np.empty(len(indices))
        for start in range(0, len(indices), _CHUNK):
            block = indices[start : start + _CHUNK]
            mean, std = blr.predict(basis(block))
            out[start : start + _CHUNK] = expected_improvement(mean, std, target)
        return out

    def acquisition(self, indices: np.ndarray) -> np.ndarray:
        """EI (in standardised reward units) of pool ``indices`` under a freshly fitted model."""
        basis, y_mean, y_std = self.fit()
        return self._exact_ei(basis, indices, self._target(y_mean, y_std))

    def ask(self) -> np.ndarray | Request:  # a subclass may ask for a lower fidelity
        if len(self.observed) < self.init:
            free = self._unvisited()
            if len(free) == 0:
                return np.empty(0, dtype=np.int64)
            want = min(self.init - len(self.observed), len(free))
            return self._propose(self.rng.choice(free, size=want, replace=False))
        free_mask = ~self.visited[self.candidates]
        n_free = int(np.count_nonzero(free_mask))
        if n_free == 0:
            return np.empty(0, dtype=np.int64)
        basis, y_mean, y_std = self.fit()
        target = self._target(y_mean, y_std)
        return self._propose(self._best_of_pool(basis, target, min(self.top_k, n_free)))

    def _best_of_pool(
        self, basis: Callable[[np.ndarray], Any], target: float, k: int
    ) -> np.ndarray:
        """The ``k`` unvisited candidates of largest EI (at least ``k`` remain), best first:
        over the whole pool, or over this iteration's part (``max_scored``), screened where that
        is exact and cheaper (:meth:`_select_screened`)."""
        free_mask = ~self.visited[self.candidates]
        n_free = int(np.count_nonzero(free_mask))
        rows, part = None, None  # max_scored: the candidate positions scored, their part
        if self.max_scored is not None and len(self.candidates) > self.max_scored:
            part = self._next_part()
            assert self._parts is not None  # _next_part() sets them
            rows = self._parts[part]
            free_mask = free_mask[rows]
            n_free_part = int(np.count_nonzero(free_mask))
            if n_free_part >= k:
                n_free = n_free_part
            else:  # (a part nearly all visited) the whole pool
                rows, part, free_mask = None, None, ~self.visited[self.candidates]
        picked = None
        if isinstance(basis, _NetBasis) and n_free >= _SCREEN_MIN:
            xa = self._candidate_inputs() if part is None else self._part_inputs(part)
            picked = self._select_screened(basis, target, xa, rows, free_mask, n_free, k)
        if picked is None:
            positions = np.flatnonzero(free_mask) if rows is None else rows[free_mask]
            picked = self._select_exact(basis, target, self.candidates[positions], k)
        return picked

    def _next_part(self) -> int:
        """``max_scored``: the part of the candidates scored this iteration.

        A fixed random order of the candidate positions (from a generator spawned off the
        network's seed sequence: no other random stream moves) is cut into
        ``ceil(N / max_scored)`` parts; EI iteration t scores part ``t mod parts``."""
        if self._parts is None:
            assert self.max_scored is not None  # the caller's condition
            bits = self.net_rng.bit_generator
            # NumPy < 1.25 has it private only (the stubs know the public name)
            seq = getattr(bits, "seed_seq", None) or bits._seed_seq  # type: ignore[attr-defined, unused-ignore]
            seq = seq.spawn(1)[0]
            order = np.random.default_rng(seq).permutation(len(self.candidates))
            self._parts = np.array_split(order, -(-len(order) // self.max_scored))
        part = self._turn % len(self._parts)
        self._turn += 1
        return part

    def _part_inputs(self, part: int) -> np.ndarray:
        """``[x, 1]`` of a part's candidates: kept in the parts' order, so they are contiguous."""
        if self._xa_parts is None:
            assert self._parts is not None  # _next_part() sets them first
            self._xa_parts = self._candidate_inputs()[np.concatenate(self._parts)]
            self._part_starts: np.ndarray = np.cumsum([0] + [len(p) for p in self._parts])
        return self._xa_parts[self._part_starts[part] : self._part_starts[part + 1]]

    def _select_exact(
        self, basis: Callable[[np.ndarray], Any], target: float, free: np.ndarray, k: int
    ) -> np.ndarray:
        """The ``k`` unvisited candidates ``free`` of largest exact EI, best first, ties by
        position: EI of every one of them."""
        ei = self._exact_ei(basis, free, target)
        top = np.argpartition(-ei, k - 1)[:k] if k < len(free) else np.arange(len(free))
        top = top[np.lexsort((top, -ei[top]))]  # best first, ties by position: deterministic
        return free[top]

    def _select_screened(
        self,
        basis: _NetBasis,
        target: float,
        xa: np.ndarray,
        positions: np.ndarray | None,
        free_mask: np.ndarray,
        n_free: int,
        k: int,
    ) -> np.ndarray | None:
        """The choice of :meth:`_select_exact`, computing the exact EI of a shortlist only.

        The candidates are the rows of ``xa`` (their ``[x, 1]``), at candidate ``positions``
        (None: all, in order); ``free_mask`` marks the unvisited ones, ``n_free`` of them.

        1. :meth:`_screen` bounds every candidate's EI from above: its hidden layer (float32, in
           cache-sized blocks), the approximate predictive mean ``phi . w``, ``|phi|^2``, and the
           variance the most informed eigen-direction removes from the prior's
           ``|phi|^2 / alpha`` (:func:`~arch2vec.models.dngo.expected_improvement_bound` of
           :meth:`~arch2vec.models.dngo.BayesianLinearRegression.mean_variance_bounds`).
        2. The exact EI of the ``_SEEDS`` best-bounded unvisited candidates gives ``tau``, their
           ``k``-th largest: the ``k``-th largest EI over all candidates is at least ``tau``, so
           a candidate whose bound is below ``tau`` cannot be chosen.
        3. The candidates whose bound reaches ``tau`` get a tighter bound (:meth:`_screen` again,
           with the 15 most informed directions: that costs a second matrix product as large as
           the hidden layer's, so only here); where many remain, the exact EI of the best of them
           may raise ``tau``; those whose tighter bound reaches ``tau`` are shortlisted.
        4. The shortlist's exact EI is computed by :meth:`_exact_ei`, the code that computed
           every candidate's, and the ``k`` best are taken, best first, ties by position.

        The comparisons with ``tau`` keep a relative margin of 1e-3 for the bound's float32
        rounding (~1e-6), and the bounds themselves margins for that of the exact EI
        (:meth:`~arch2vec.models.dngo.BayesianLinearRegression.mean_variance_bounds`): the
        decisions are those of exact EI over all candidates. One caveat: BLAS rounds a row of a
        matrix product the same wherever it sits only in most cases, so the exact EI of a
        shortlisted candidate can differ in the last bit (~1e-7 relative) from what it got in a
        block of all candidates; the choice changes only if two candidates tie to that
        precision. Returns None (the caller computes EI for all) where the bound cannot help:
        ``tau`` is 0 or tiny (EI underflows), or more than a quarter of the candidates remain.
        """
        blr = self.blr
        assert blr is not None  # fit() sets it
        net = basis.net
        cells_at = self.candidates if positions is None else self.candidates[positions]
        mean, sq_norm, reduction, w_norm = self._screen(net, blr, xa, _FIRST_DIRECTIONS)
        bound = self._ei_bound(mean, sq_norm, reduction, w_norm, target)
        np.multiply(bound, free_mask, out=bound)  # visited: 0, never shortlisted (tau > 0)
        top = float(bound.max())
        if not top > 0.0:
            return None
        want = max(_SEEDS, k)
        seeds = np.flatnonzero(bound >= 0.5 * top)
        if len(seeds) < k:  # the k best-bounded unvisited ones
            free = np.flatnonzero(free_mask)
            seeds = free[np.argpartition(-bound[free], k - 1)[:k]]
        if len(seeds) > want:
            seeds = seeds[np.argpartition(-bound[seeds], want - 1)[:want]]
        seed_ei = self._exact_ei(basis, cells_at[np.sort(seeds)], target)
        tau = float(np.partition(seed_ei, len(seed_ei) - k)[len(seed_ei) - k])
        if not tau > 1e-30:
            return None
        rows = np.flatnonzero(bound >= tau * (1.0 - _MARGIN))
        mean, sq_norm, reduction, w_norm = self._screen(net, blr, xa[rows], _SCREEN_DIRECTIONS)
        bound = self._ei_bound(mean, sq_norm, reduction, w_norm, target)
        if len(rows) > 4 * want:  # a better tau from the best of the tighter bounds
            seeds = rows[np.argpartition(-bound, want - 1)[:want]]
            seed_ei = self._exact_ei(basis, cells_at[np.sort(seeds)], target)
            tau = max(tau, float(np.partition(seed_ei, len(seed_ei) - k)[len(seed_ei) - k]))
        rows = rows[bound >= tau * (1.0 - _MARGIN)]
        if not k <= len(rows) <= n_free // 4:  # (fewer than k: only if a bound were wrong)
            return None
        cells = cells_at[rows]
        ei = self._exact_ei(basis, cells, target)
        best = np.argpartition(-ei, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
        best = best[np.lexsort((best, -ei[best]))]  # best first, ties by position
        return cells[best]

    def _ei_bound(self, mean, sq_norm, reduction, w_norm, target) -> np.ndarray:
        assert self.blr is not None  # fit() sets it
        mean_ub, std_ub = self.blr.mean_variance_bounds(mean, sq_norm, reduction, w_norm)
        return expected_improvement_bound(mean_ub, std_ub, target)

    def _screen(
        self, net: MLP, blr: BayesianLinearRegression, xa: np.ndarray, directions: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """What :meth:`BayesianLinearRegression.mean_variance_bounds` needs, for the candidates
        of inputs ``xa`` (``[x, 1]``, float32), in blocks of ``_SCREEN_BLOCK``.

        Per block (its hidden layer, 1 MiB, stays in cache): the hidden layer
        ``act([x, 1] @ [W1; b1])`` (float32, the bias folded into the product); its product with
        ``w`` (the approximate predictive mean ``phi . w``), or with the 16 columns
        ``[w, sqrt(c_j) v_j]`` for 15 ``directions`` (BLAS pads narrow products, so 16 columns
        cost as one matrix product as large as the hidden layer's), whose scaled projections'
        squared sum is the variance those directions remove; and ``|phi|^2``. The constant
        column of the basis adds the last row of the columns, and 1 to ``|phi|^2``. This
        replaces, per candidate, the gather of its inputs, the rank-r projection (``r`` up to
        the number of observations) and the float64 EI. Returns the mean, ``|phi|^2`` and the
        variance reduction (float32), and ``|w|``.
        """
        w, v_s, c_s = blr.screening(directions)
        wa = net.first_layer(np.float32)
        h = wa.shape[1]
        cols = np.concatenate([w[:, None], v_s * np.sqrt(c_s)], axis=1).astype(np.float32)
        const = cols[h].copy()  # the constant column's contribution
        cols = np.ascontiguousarray(cols[:h])
        narrow = cols.shape[1] <= 3  # separate matrix-vector products: cheaper than padded
        vecs = [np.ascontiguousarray(cols[:, j]) for j in range(cols.shape[1])] if narrow else []
        n = len(xa)
        mean = np.empty(n, dtype=np.float32)
        sq_norm = np.empty(n, dtype=np.float32)
        reduction = np.zeros(n, dtype=np.float32)
        z = np.empty((min(_SCREEN_BLOCK, n), h), dtype=np.float32)
        out = np.empty((len(z), cols.shape[1]), dtype=np.float32)
        one = np.empty(len(z), dtype=np.float32)
        for start in range(0, n, _SCREEN_BLOCK):
            stop = min(start + _SCREEN_BLOCK, n)
            zb, ob, pb = z[: stop - start], out[: stop - start], one[: stop - start]
            np.matmul(xa[start:stop], wa, out=zb)
            net._act(zb)
            if narrow:
                np.matmul(zb, vecs[0], out=mean[start:stop])
                for j in range(1, len(vecs)):
                    np.matmul(zb, vecs[j], out=pb)
                    pb += const[j]
                    pb *= pb
                    reduction[start:stop] += pb
            else:
                np.matmul(zb, cols, out=ob)
                ob += const
                mean[start:stop] = ob[:, 0]
                np.einsum("ij,ij->i", ob[:, 1:], ob[:, 1:], out=reduction[start:stop])
            np.einsum("ij,ij->i", zb, zb, out=sq_norm[start:stop])
        if narrow:
            mean += const[0]
        sq_norm += 1.0
        return mean, sq_norm, reduction, float(np.linalg.norm(w))

    def tell(self, indices: np.ndarray, rewards: np.ndarray, fidelity: str | None = None) -> None:
        indices = np.asarray(indices, dtype=np.int64)
        rewards = np.asarray(rewards, dtype=np.float64)
        seen = set(self.observed)
        for i, r in zip(indices.tolist(), rewards.tolist(), strict=True):
            self.visited[i] = True
            if i not in seen and math.isfinite(r):
                seen.add(i)
                self.observed.append(i)
                self.rewards.append(r)
