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
4. Expected improvement (with the predictive standard deviation) is computed for every candidate
   not yet visited, at once; the ``top_k`` best are proposed.

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

Speed: the network (:class:`~arch2vec.models.dngo.MLP`) is NumPy with a hand-written gradient,
and the predictive variance of the ~15k-400k candidates projects only on the eigenvectors the
observations inform (:mod:`arch2vec.models.dngo`). One NB-201
CIFAR-10 run (about 94 queries) takes about 0.7 s on one core instead of 3.9 s with a PyTorch
network (``python benchmarks/bench_search.py --embeddings RUN --file nb201_merged.csv``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from arch2vec.models.dngo import MLP, BayesianLinearRegression, expected_improvement
from arch2vec.search.base import SearchProblem, Strategy
from arch2vec.spaces.base import SearchSpace

_CHUNK = 65_536  # candidates per block when predicting (bounds memory on the 423k NB-101 pool)


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
    - ``log_bounds`` ((-10, 10)): bounds on log alpha and log beta.
    """

    name = "arch2vec-bo"
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
        self.log_bounds = tuple(log_bounds)
        if self.activation not in ("tanh", "relu"):
            raise ValueError(f"{self.name}: activation must be 'tanh' or 'relu'")
        if self.init < 1 or self.top_k < 1 or self.epochs < 0:
            raise ValueError(f"{self.name}: init and top_k must be >= 1, epochs >= 0")

        problem = self.problem
        self.candidates = np.asarray(problem.candidates, dtype=np.int64)
        self.visited = np.zeros(self._prepare_inputs(problem), dtype=bool)
        self.net_rng = np.random.default_rng(int(self.rng.integers(2**62)))  # initialisations
        self.observed: list[int] = []
        self.rewards: list[float] = []
        self.blr: BayesianLinearRegression | None = None

    def _prepare_inputs(self, problem: SearchProblem) -> int:
        """Set up the network's inputs of every cell; return the number of cells (pool size).

        Here: the embeddings, standardised over the candidates. A subclass that learns its own
        representation (:mod:`arch2vec.search.supervised`) reads the cells instead.
        """
        feats = np.asarray(problem.features, dtype=np.float64)
        pool = feats[self.candidates]
        mu, sd = pool.mean(axis=0), pool.std(axis=0)
        sd[sd < 1e-12] = 1.0
        self._x = ((feats - mu) / sd).astype(np.float32)  # standardised over the candidates
        return len(feats)

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
        return lambda block: net.hidden(self._x[block], bias=True)

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

    def acquisition(self, indices: np.ndarray) -> np.ndarray:
        """EI (in standardised reward units) of pool ``indices`` under a freshly fitted model."""
        basis, y_mean, y_std = self.fit()
        best = max(self.rewards) if self.ei_target is None else self.ei_target
        target = (best - y_mean) / y_std
        out = np.empty(len(indices))
        for start in range(0, len(indices), _CHUNK):
            block = indices[start : start + _CHUNK]
            mean, std = self.blr.predict(basis(block))
            out[start : start + _CHUNK] = expected_improvement(mean, std, target)
        return out

    def ask(self) -> np.ndarray:
        free = self._unvisited()
        if len(free) == 0:
            return np.empty(0, dtype=np.int64)
        if len(self.observed) < self.init:
            want = min(self.init - len(self.observed), len(free))
            return self._propose(self.rng.choice(free, size=want, replace=False))
        k = min(self.top_k, len(free))
        ei = self.acquisition(free)
        top = np.argpartition(-ei, k - 1)[:k] if k < len(free) else np.arange(len(free))
        top = top[np.lexsort((top, -ei[top]))]  # best first, ties by position: deterministic
        return self._propose(free[top])

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
