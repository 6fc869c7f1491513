"""arch2vec-BO: DNGO (a neural network + Bayesian linear regression) with expected improvement.

The strategy of Yan et al. 2020 (§3.3, Appendix A), written from the paper's description:

1. The first ``init`` proposals are distinct candidates drawn uniformly at random.
2. Each later iteration retrains, from scratch, a network with one hidden layer (``hidden`` = 128
   units, ``activation`` tanh by default, relu optional) on the observed (embedding,
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
- A run is deterministic for the ``rng`` given: a torch.Generator seeded from it initialises the
  network; torch runs on one thread (``torch.set_num_threads(1)``, set by the constructor, as
  many runs go in parallel processes).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize
from scipy.special import ndtr

from arch2vec.search.base import SearchProblem, Strategy

_CHUNK = 65_536  # candidates per block when predicting (bounds memory on the 423k NB-101 pool)


def expected_improvement(mean: np.ndarray, std: np.ndarray, target: float) -> np.ndarray:
    """EI of a maximisation: ``E[max(f - target, 0)]`` for ``f ~ N(mean, std^2)``.

    ``(mean - target) * Phi(z) + std * phi(z)`` with ``z = (mean - target) / std``; where
    ``std`` is 0 it is ``max(mean - target, 0)``.
    """
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    diff = mean - target
    safe = np.where(std > 0, std, 1.0)
    z = diff / safe
    ei = diff * ndtr(z) + safe * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return np.where(std > 0, np.maximum(ei, 0.0), np.maximum(diff, 0.0))


class BayesianLinearRegression:
    """Bayesian linear regression ``y = phi^T w + noise`` with evidence-maximised alpha, beta.

    Prior ``w ~ N(0, I / alpha)``, noise ``N(0, 1 / beta)``. Posterior ``N(m, S)`` with
    ``S^-1 = alpha I + beta Phi^T Phi`` and ``m = beta S Phi^T y``. Everything goes through the
    eigendecomposition ``Phi^T Phi = V diag(lam) V^T``, so one evidence evaluation is O(m).
    The matrix work runs in torch (float64), which obeys ``torch.set_num_threads``.
    """

    def __init__(self, log_bounds: tuple[float, float] = (-10.0, 10.0)) -> None:
        self.log_bounds = log_bounds
        self.alpha = float("nan")
        self.beta = float("nan")

    def log_evidence(self, log_alpha: float, log_beta: float) -> tuple[float, np.ndarray]:
        """``log p(y | alpha, beta)`` (closed form) and its gradient in (log alpha, log beta).

        Needs :meth:`prepare` first. With ``A = alpha I + beta Phi^T Phi``::

            log p = m/2 log alpha + n/2 log beta - beta/2 |y - Phi m_N|^2 - alpha/2 |m_N|^2
                    - 1/2 log|A| - n/2 log(2 pi)
        """
        alpha, beta = math.exp(log_alpha), math.exp(log_beta)
        lam, pty = self._lam, self._pty
        n, m = self._n, len(lam)
        d = beta * lam + alpha  # eigenvalues of A
        mean_v = beta * pty / d  # posterior mean m_N in the eigenbasis
        # |y - Phi m_N|^2 = y^T y - 2 m_N^T Phi^T y + m_N^T Phi^T Phi m_N, in the eigenbasis
        resid = max(self._yty - 2.0 * float(np.dot(mean_v, pty)) + float(np.dot(mean_v**2, lam)), 0)
        wsq = float(np.dot(mean_v, mean_v))
        value = (
            0.5 * m * log_alpha
            + 0.5 * n * log_beta
            - 0.5 * beta * resid
            - 0.5 * alpha * wsq
            - 0.5 * float(np.sum(np.log(d)))
            - 0.5 * n * math.log(2.0 * math.pi)
        )
        # m_N minimises the energy, so only the explicit dependence on alpha, beta remains
        grad_alpha = 0.5 * m / alpha - 0.5 * wsq - 0.5 * float(np.sum(1.0 / d))
        grad_beta = 0.5 * n / beta - 0.5 * resid - 0.5 * float(np.sum(lam / d))
        return value, np.array([alpha * grad_alpha, beta * grad_beta])

    def prepare(self, phi: torch.Tensor, y: np.ndarray) -> None:
        """Eigendecompose ``Phi^T Phi`` of the basis ``phi`` (float64 tensor) of targets ``y``."""
        yt = torch.as_tensor(np.asarray(y, dtype=np.float64))
        lam, v = torch.linalg.eigh(phi.T @ phi)
        self._lam = np.clip(lam.numpy(), 0.0, None)
        self._v = v
        self._pty = (v.T @ (phi.T @ yt)).numpy()  # Phi^T y in the eigenbasis
        self._yty = float(yt @ yt)
        self._n = len(y)

    def fit(self, phi: torch.Tensor, y: np.ndarray) -> BayesianLinearRegression:
        """Set alpha and beta by maximising the evidence, then the posterior.

        TNC rather than L-BFGS-B: the latter's LAPACK calls go through multi-threaded OpenBLAS and
        took ~50x longer on a loaded machine (many runs in parallel); the optimum is the same.
        """
        self.prepare(phi, y)
        lo, hi = self.log_bounds
        start = np.clip([0.0, math.log(1.0 / max(float(np.var(y)), 1e-6)) + 1.0], lo, hi)

        def negative(x: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = self.log_evidence(float(x[0]), float(x[1]))
            return -value, -grad

        best = minimize(negative, start, jac=True, method="TNC", bounds=[(lo, hi)] * 2)
        x = best.x if np.all(np.isfinite(best.x)) else start
        self.alpha, self.beta = float(math.exp(x[0])), float(math.exp(x[1]))
        d = self.beta * self._lam + self.alpha
        self._inv_d = torch.from_numpy(1.0 / d)
        self._mean_v = torch.from_numpy(self.beta * self._pty / d)
        return self

    def predict(self, phi: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and standard deviation (noise included) of rows of ``phi``.

        Runs in the dtype of ``phi``: float32 is accurate enough here (the variance is a sum of
        non-negative terms) and twice as fast as float64 on a large pool.
        """
        proj = phi @ self._v.to(phi.dtype)
        mean = proj @ self._mean_v.to(phi.dtype)
        var = (proj * proj) @ self._inv_d.to(phi.dtype) + 1.0 / self.beta
        return mean.double().numpy(), torch.sqrt(var).double().numpy()


def _reset_uniform(module: torch.nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default Linear init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from ``generator``."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, torch.nn.Linear):
                bound = 1.0 / math.sqrt(layer.in_features)
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)


class BO(Strategy):
    """arch2vec-BO: DNGO surrogate on the embedding, expected improvement over unvisited cells.

    Hyper-parameters (keyword arguments):

    - ``init`` (16): random distinct candidates proposed before the surrogate is used;
    - ``top_k`` (1): cells proposed per EI iteration (paper: 5 on NB-101, 1 on NB-201);
    - ``epochs`` (100), ``lr`` (1e-2): full-batch Adam training of the network, from scratch
      every iteration;
    - ``hidden`` (128): units of the single hidden layer, whose outputs (plus a bias column) are
      the regression basis;
    - ``activation`` ("tanh"; or "relu");
    - ``ei_target`` (None): EI's "best function value" as a reward in percent; None uses the best
      observed reward (the paper's 0.95 / 1.0 are 95 / 100);
    - ``log_bounds`` ((-10, 10)): bounds on log alpha and log beta.
    """

    name = "arch2vec-bo"
    needs_features = True
    hyper_names = frozenset(
        {"init", "top_k", "epochs", "lr", "hidden", "activation", "ei_target", "log_bounds"}
    )

    def __init__(self, problem: SearchProblem, rng: np.random.Generator, **hyper: Any) -> None:
        super().__init__(problem, rng, **hyper)
        self.init = int(hyper.get("init", 16))
        self.top_k = int(hyper.get("top_k", 1))
        self.epochs = int(hyper.get("epochs", 100))
        self.lr = float(hyper.get("lr", 1e-2))
        self.hidden = int(hyper.get("hidden", 128))
        self.activation = str(hyper.get("activation", "tanh"))
        target = hyper.get("ei_target")
        self.ei_target = None if target is None else float(target)
        self.log_bounds = tuple(hyper.get("log_bounds", (-10.0, 10.0)))
        if self.activation not in ("tanh", "relu"):
            raise ValueError(f"{self.name}: activation must be 'tanh' or 'relu'")
        if self.init < 1 or self.top_k < 1 or self.epochs < 0:
            raise ValueError(f"{self.name}: init and top_k must be >= 1, epochs >= 0")

        torch.set_num_threads(1)
        self.candidates = np.asarray(problem.candidates, dtype=np.int64)
        self.visited = np.zeros(self._prepare_inputs(problem), dtype=bool)
        self.generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
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

    def _inputs(self, indices: np.ndarray) -> tuple[torch.Tensor, ...]:
        """The network's input tensors of pool ``indices`` (``net(*inputs)``)."""
        return (torch.from_numpy(self._x[indices]),)

    def _unvisited(self) -> np.ndarray:
        return self.candidates[~self.visited[self.candidates]]

    def _propose(self, indices: np.ndarray) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64)
        self.visited[indices] = True
        return indices

    def _net(self) -> torch.nn.Sequential:
        act = torch.nn.Tanh() if self.activation == "tanh" else torch.nn.ReLU()
        net = torch.nn.Sequential(
            torch.nn.Linear(self._x.shape[1], self.hidden), act, torch.nn.Linear(self.hidden, 1)
        )
        _reset_uniform(net, self.generator)
        return net

    def _hidden(self, net: torch.nn.Module, indices: np.ndarray) -> torch.Tensor:
        """Hidden-layer outputs (the regression basis, without its constant) of pool ``indices``."""
        return net[:2](*self._inputs(indices))

    def _basis(
        self, net: torch.nn.Module, indices: np.ndarray, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        """Hidden-layer outputs of pool ``indices`` plus a constant column."""
        with torch.no_grad():
            h = self._hidden(net, indices).to(dtype)
        return torch.cat([h, torch.ones(len(h), 1, dtype=dtype)], dim=1)

    def _train(self, net: torch.nn.Module, indices: np.ndarray, ys: np.ndarray) -> None:
        """Full-batch Adam on the mean squared error of pool ``indices`` to targets ``ys``."""
        inputs = self._inputs(indices)
        yt = torch.from_numpy(ys.astype(np.float32))[:, None]
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, foreach=True)
        net.train()
        for _ in range(self.epochs):
            opt.zero_grad()
            loss = torch.mean((net(*inputs) - yt) ** 2)
            loss.backward()
            opt.step()
        net.eval()

    def fit(self) -> tuple[torch.nn.Module, float, float]:
        """Train the network and the regression on all observations; the reward mean and std."""
        y = np.asarray(self.rewards, dtype=np.float64)
        y_mean, y_std = float(y.mean()), float(y.std())
        y_std = y_std if y_std > 1e-12 else 1.0
        ys = (y - y_mean) / y_std
        idx = np.asarray(self.observed, dtype=np.int64)
        net = self._net()
        self._train(net, idx, ys)
        self.blr = BayesianLinearRegression(self.log_bounds).fit(self._basis(net, idx), ys)
        return net, y_mean, y_std

    def acquisition(self, indices: np.ndarray) -> np.ndarray:
        """EI (in standardised reward units) of pool ``indices`` under a freshly fitted model."""
        net, y_mean, y_std = self.fit()
        best = max(self.rewards) if self.ei_target is None else self.ei_target
        target = (best - y_mean) / y_std
        out = np.empty(len(indices))
        for start in range(0, len(indices), _CHUNK):
            block = indices[start : start + _CHUNK]
            mean, std = self.blr.predict(self._basis(net, block, torch.float32))
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

    def tell(self, indices: np.ndarray, rewards: np.ndarray) -> None:
        indices = np.asarray(indices, dtype=np.int64)
        rewards = np.asarray(rewards, dtype=np.float64)
        seen = set(self.observed)
        for i, r in zip(indices.tolist(), rewards.tolist(), strict=True):
            self.visited[i] = True
            if i not in seen and math.isfinite(r):
                seen.add(i)
                self.observed.append(i)
                self.rewards.append(r)
