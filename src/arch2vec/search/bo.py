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

Speed: the network (:class:`MLP`) is NumPy with a hand-written gradient, and the predictive
variance of the ~15k-400k candidates projects only on the eigenvectors the observations inform
(rank <= number of observations; see :meth:`BayesianLinearRegression.predict`). One NB-201
CIFAR-10 run (about 94 queries) takes about 0.7 s on one core instead of 3.9 s with a PyTorch
network (``python benchmarks/bench_search.py --embeddings RUN --file nb201_merged.csv``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import ndtr

from arch2vec.search.base import SearchProblem, Strategy
from arch2vec.spaces.base import SearchSpace

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
    Plain NumPy (float64) throughout.
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

    def prepare(self, phi: np.ndarray, y: np.ndarray) -> None:
        """Eigendecompose ``Phi^T Phi`` of the basis ``phi`` ``(n, m)`` of targets ``y``."""
        phi = np.asarray(phi, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        lam, v = np.linalg.eigh(phi.T @ phi)
        self._lam = np.clip(lam, 0.0, None)
        self._v = v
        self._pty = v.T @ (phi.T @ y)  # Phi^T y in the eigenbasis
        self._yty = float(y @ y)
        self._n = len(y)

    def fit(self, phi: np.ndarray, y: np.ndarray) -> BayesianLinearRegression:
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
        # Directions with beta * lam << alpha have posterior variance 1/alpha to within 1e-6
        # (relative): they are treated as the prior's null space, so prediction only projects
        # on the rank-r informative eigenvectors (r <= n observations) instead of all m.
        keep = self.beta * self._lam > 1e-6 * self.alpha
        self._v_r = self._v[:, keep]
        self._inv_d_r = 1.0 / d[keep]
        self._mean_r = self.beta * self._pty[keep] / d[keep]
        return self

    def predict(self, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and standard deviation (noise included) of rows of ``phi``.

        ``phi^T S phi = |P phi|^2 / alpha + sum_j (v_j^T phi)^2 / d_j`` over the kept
        eigenvectors ``v_j``, where ``|P phi|^2 = |phi|^2 - sum_j (v_j^T phi)^2`` is the squared
        norm of ``phi`` outside their span. Runs in the dtype of ``phi``: in float32 the variance
        is off by about ``1e-6 |phi|^2 / alpha`` (NB-201 runs: ~3e-6, against the noise floor
        ``1 / beta`` >= 4.5e-5), and it is 3x faster than float64 on a large pool.
        """
        dtype = phi.dtype if phi.dtype in (np.float32, np.float64) else np.float64
        phi = np.asarray(phi, dtype=dtype)
        proj = phi @ self._v_r.astype(dtype)
        mean = proj @ self._mean_r.astype(dtype)
        proj *= proj
        inside = proj.sum(axis=1)
        outside = np.maximum(np.einsum("ij,ij->i", phi, phi) - inside, 0.0)
        var = outside / self.alpha + proj @ self._inv_d_r.astype(dtype) + 1.0 / self.beta
        return mean.astype(np.float64), np.sqrt(var, dtype=np.float64)


class MLP:
    """One hidden layer, ``x -> act(x W1 + b1) w2 + b2``, in NumPy with full-batch Adam.

    DNGO's feature network, small enough that per-operation overhead dominates: written with
    NumPy and the gradient by hand it trains ~6x faster than the same network in PyTorch on one
    thread. Weights start as PyTorch's default ``Linear``: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``
    for weights and biases, drawn from ``rng``. Adam is PyTorch's (betas 0.9/0.999, eps 1e-8,
    bias-corrected); all parameters live in one flat vector, so one update is a few vector ops.
    """

    def __init__(self, inputs: int, hidden: int, activation: str, rng: np.random.Generator) -> None:
        self.shapes = [(inputs, hidden), (hidden,), (hidden,), (1,)]
        fans = [inputs, inputs, hidden, hidden]
        sizes = [math.prod(s) for s in self.shapes]
        self.theta = np.concatenate(
            [rng.uniform(-1, 1, size) / math.sqrt(f) for size, f in zip(sizes, fans, strict=True)]
        )
        self.activation = activation
        # views into theta: W1 (inputs, hidden), b1, w2 (hidden,), b2 (1,)
        self.w1, self.b1, self.w2, self.b2 = self._views(self.theta)

    def _views(self, flat: np.ndarray) -> list[np.ndarray]:
        out, at = [], 0
        for shape in self.shapes:
            size = math.prod(shape)
            out.append(flat[at : at + size].reshape(shape))
            at += size
        return out

    def _act(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z, out=z) if self.activation == "tanh" else np.maximum(z, 0.0, out=z)

    def hidden(self, x: np.ndarray, bias: bool = False) -> np.ndarray:
        """Hidden-layer outputs ``(B, hidden)`` in the dtype of ``x``; with ``bias``, plus a
        constant column of ones ``(B, hidden + 1)`` (DNGO's regression basis)."""
        n, h = len(x), self.w1.shape[1]
        out = np.empty((n, h + 1) if bias else (n, h), dtype=x.dtype)
        z = out[:, :h]
        np.matmul(x, self.w1.astype(x.dtype, copy=False), out=z)
        z += self.b1.astype(x.dtype, copy=False)
        self._act(z)
        if bias:
            out[:, h] = 1.0
        return out

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int, lr: float) -> MLP:
        """``epochs`` full-batch Adam steps on the mean squared error of ``x`` to ``y``."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n = len(y)
        grad = np.zeros_like(self.theta)
        g_w1, g_b1, g_w2, g_b2 = self._views(grad)
        m1 = np.zeros_like(self.theta)
        m2 = np.zeros_like(self.theta)
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        for step in range(1, epochs + 1):
            h = self.hidden(x)
            dout = (h @ self.w2 + self.b2[0] - y) * (2.0 / n)  # d loss / d output
            np.matmul(h.T, dout, out=g_w2)
            g_b2[0] = dout.sum()
            if self.activation == "tanh":
                dz = np.multiply.outer(dout, self.w2)
                dz *= 1.0 - h * h
            else:
                dz = np.multiply.outer(dout, self.w2) * (h > 0)
            np.matmul(x.T, dz, out=g_w1)
            np.sum(dz, axis=0, out=g_b1)
            m1 *= beta1
            m1 += (1.0 - beta1) * grad
            m2 *= beta2
            m2 += (1.0 - beta2) * grad * grad
            denom = np.sqrt(m2)
            denom /= math.sqrt(1.0 - beta2**step)
            denom += eps
            self.theta -= (lr / (1.0 - beta1**step)) * m1 / denom
        return self


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
