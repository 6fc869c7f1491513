"""DNGO (Snoek et al. 2015): a one-hidden-layer network whose hidden layer is the basis of a
Bayesian linear regression, and expected improvement -- the surrogate of arch2vec-BO
(:mod:`arch2vec.search.bo`), in NumPy.

- :class:`MLP`: the feature network, ``x -> act(x W1 + b1) w2 + b2``, trained with full-batch
  Adam; written with NumPy and a hand-written gradient (per-operation overhead dominates a network
  this small: ~6x faster than the same network in PyTorch on one thread).
- :class:`BayesianLinearRegression`: weight prior N(0, 1/alpha), noise precision beta, both
  maximising the closed-form log evidence; predictive variance projected on the rank-r
  eigenvectors the observations inform, so predicting ~15k-600k candidates is cheap; cheap upper
  bounds of the predictive mean and variance (:meth:`~BayesianLinearRegression.screening`) let
  arch2vec-BO compute the exact expected improvement of a shortlist only.
- :func:`expected_improvement` of a maximisation, and :func:`expected_improvement_bound`, an
  upper bound that needs one ``exp``.

Speed without changing a result: everything here computes the same floating-point operations in
the same order as the straightforward version it replaced (the network's training is bitwise
identical, checked against the previous implementation), with fewer NumPy calls, no temporaries
and no Python-level wrappers around the optimiser. See each method's docstring.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize
from scipy.special import ndtr

try:  # the C routine behind minimize(method="TNC"); see BayesianLinearRegression._maximise
    from scipy.optimize import _moduleTNC
except ImportError:  # pragma: no cover - a SciPy without it: minimize() is used
    _moduleTNC = None

_SQRT_2PI = math.sqrt(2.0 * math.pi)


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
    ei = diff * ndtr(z) + safe * np.exp(-0.5 * z * z) / _SQRT_2PI
    return np.where(std > 0, np.maximum(ei, 0.0), np.maximum(diff, 0.0))


def expected_improvement_bound(mean: np.ndarray, std: np.ndarray, target: float) -> np.ndarray:
    """An upper bound of :func:`expected_improvement` that needs one ``exp`` (no ``ndtr``).

    EI is ``std * g(u)`` with ``u = (mean - target) / std`` and ``g(u) = u Phi(u) + phi(u)``.
    For ``u <= 0`` the Mills-ratio inequality ``1 - Phi(a) >= phi(a) a / (1 + a^2)`` (``a = -u``)
    gives ``g(u) <= phi(u) / (1 + u^2)`` (at most ~1.5 times ``g``, exact at 0 and
    asymptotically); for ``u > 0``, ``g(u) <= u + phi(u)``: together
    ``g(u) <= max(u, 0) + phi(u) / (1 + min(u, 0)^2)``, without branches. Computed in the dtype of
    ``mean`` (float32 is fine: callers compare with a relative margin), for ``std > 0``. EI
    increases with both the mean and the std, so bounds of those give a bound of EI.
    """
    u = mean - np.asarray(target, dtype=mean.dtype)
    u /= std
    pdf = np.square(u)
    pdf *= -0.5
    np.exp(pdf, out=pdf)
    pdf *= 1.0 / _SQRT_2PI
    out = np.minimum(u, 0.0)
    np.square(out, out=out)
    out += 1.0
    np.divide(pdf, out, out=out)
    np.maximum(u, 0.0, out=u)
    out += u
    out *= std
    return out


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
        # (ndarray.sum rather than np.sum: the same reduction without a Python wrapper; the
        # optimiser evaluates this ~30 times per fit)
        resid = max(self._yty - 2.0 * float(np.dot(mean_v, pty)) + float(np.dot(mean_v**2, lam)), 0)
        wsq = float(np.dot(mean_v, mean_v))
        value = (
            0.5 * m * log_alpha
            + 0.5 * n * log_beta
            - 0.5 * beta * resid
            - 0.5 * alpha * wsq
            - 0.5 * float(np.log(d).sum())
            - 0.5 * n * math.log(2.0 * math.pi)
        )
        # m_N minimises the energy, so only the explicit dependence on alpha, beta remains
        grad_alpha = 0.5 * m / alpha - 0.5 * wsq - 0.5 * float((1.0 / d).sum())
        grad_beta = 0.5 * n / beta - 0.5 * resid - 0.5 * float((lam / d).sum())
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

    def _maximise(self, start: np.ndarray) -> np.ndarray:
        """(log alpha, log beta) maximising the evidence from ``start``, by SciPy's TNC.

        ``minimize(method="TNC")`` wraps the objective in Python layers (memoisation, counters,
        copies, bound checks) that cost three times the ~30 evaluations themselves (~15 us each).
        This calls the same C routine (``scipy.optimize._moduleTNC.tnc_minimize``) with the
        arguments ``minimize`` passes for these options (no scaling or offset, ``maxfun`` 100,
        every tolerance at its default), so it sees the same function values at the same points
        and returns the same optimum, bit for bit, in a third of the time. Where that private
        routine is missing or has another signature, ``minimize`` itself runs.
        """
        lo, hi = self.log_bounds

        def negative(x: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = self.log_evidence(float(x[0]), float(x[1]))
            return -value, -grad

        if _moduleTNC is not None:
            try:
                rc, _, _, x, _, _ = _moduleTNC.tnc_minimize(
                    negative,
                    np.array(start, dtype=np.float64),
                    np.array([lo, lo], dtype=np.float64),
                    np.array([hi, hi], dtype=np.float64),
                    np.array([]),  # scale: default
                    np.array([]),  # offset: default
                    0,  # messages: none
                    -1,  # maxCGit: default
                    100,  # maxfun: max(100, 10 * 2), minimize's default
                    -1.0,  # eta
                    0.0,  # stepmx
                    0.0,  # accuracy
                    0.0,  # fmin
                    -1.0,  # ftol
                    -1.0,  # xtol
                    -1.0,  # gtol
                    -1.0,  # rescale
                    None,  # callback
                )
                return np.asarray(x, dtype=np.float64)
            except TypeError:  # another SciPy's signature
                pass
        return minimize(negative, start, jac=True, method="TNC", bounds=[(lo, hi)] * 2).x

    def fit(self, phi: np.ndarray, y: np.ndarray) -> BayesianLinearRegression:
        """Set alpha and beta by maximising the evidence, then the posterior.

        TNC rather than L-BFGS-B: the latter's LAPACK calls go through multi-threaded OpenBLAS and
        took ~50x longer on a loaded machine (many runs in parallel); the optimum is the same.
        """
        self.prepare(phi, y)
        lo, hi = self.log_bounds
        start = np.clip([0.0, math.log(1.0 / max(float(np.var(y)), 1e-6)) + 1.0], lo, hi)
        x = self._maximise(start)
        x = x if np.all(np.isfinite(x)) else start
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

    def screening(self, directions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Directions for :meth:`mean_variance_bounds`: ``(w, v_s, c_s)``, all float64.

        ``w = V_r m_r`` (``(m,)``): the posterior mean weights, so the predictive mean of ``phi`` is
        ``phi . w`` (one product instead of the rank-r projection). ``v_s`` ``(m, s)``: the
        ``s = min(directions, r)`` kept eigenvectors of largest eigenvalue (the directions
        the observations inform most), with ``c_s = 1/alpha - 1/d_j >= 0``, the variance they
        remove from the prior's ``|phi|^2 / alpha``.
        """
        w = self._v_r @ self._mean_r
        d_r = 1.0 / self._inv_d_r
        top = np.argsort(-d_r, kind="stable")[: min(int(directions), len(d_r))]
        c_s = np.maximum(1.0 / self.alpha - self._inv_d_r[top], 0.0)
        return w, self._v_r[:, top], c_s

    def mean_variance_bounds(
        self,
        mean: np.ndarray,
        sq_norm: np.ndarray,
        reduction: np.ndarray,
        w_norm: float,
        margins: tuple[float, float] = (1e-5, 2e-5),
    ) -> tuple[np.ndarray, np.ndarray]:
        """Upper bounds of the predictive mean and std of :meth:`predict`, from cheap quantities.

        ``mean`` ``(B,)``: ``phi . w`` (see :meth:`screening`); ``sq_norm``: ``|phi|^2``;
        ``reduction``: ``sum_j c_j (v_j . phi)^2`` over the screening directions; ``w_norm``:
        ``|w|``.

        The variance is ``|phi|^2/alpha - sum_j c_j (v_j . phi)^2 + 1/beta`` over all r kept
        directions, ``c_j = 1/alpha - 1/d_j``; every term of the sum is >= 0, so summing only
        some of them bounds it from above. ``margins`` cover rounding: the mean's,
        ``margins[0] |phi| |w|``, and the variance's, ``margins[1] |phi|^2 / alpha``. The largest
        differences measured between these float32 quantities and :meth:`predict`'s (float32,
        whose variance loses digits to cancellation) over NB-201 runs were 3e-7 and 7e-7 of
        those scales: the margins are 30 times that. Returns arrays of the dtype of ``mean``.
        """
        dtype = mean.dtype.type
        var = sq_norm * dtype((1.0 + margins[1]) / self.alpha)
        var -= reduction
        var += dtype(1.0 / self.beta)
        np.maximum(var, dtype(1.0 / self.beta), out=var)  # the variance is at least 1 / beta
        std = np.sqrt(var, out=var)
        margin = np.sqrt(sq_norm)
        margin *= dtype(margins[0] * w_norm)
        margin += mean
        return margin, std


class MLP:
    """One hidden layer, ``x -> act(x W1 + b1) w2 + b2``, in NumPy with full-batch Adam.

    DNGO's feature network, small enough that per-operation overhead dominates: written with
    NumPy and the gradient by hand it trains ~6x faster than the same network in PyTorch on one
    thread. Weights start as PyTorch's default ``Linear``: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``
    for weights and biases, drawn from ``rng``. Adam is PyTorch's (betas 0.9/0.999, eps 1e-8,
    bias-corrected); all parameters live in one flat vector ``theta = [W1, b1, w2, b2]``, so one
    update is a few vector ops, and ``theta[:(d + 1) h]`` is the matrix ``[W1; b1]``.
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

    def first_layer(self, dtype: type = np.float32) -> np.ndarray:
        """``[W1; b1]`` ``(inputs + 1, hidden)`` in ``dtype``: ``[x, 1] @ it`` is ``x W1 + b1``."""
        d, h = self.w1.shape
        return self.theta[: (d + 1) * h].reshape(d + 1, h).astype(dtype)

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
        """``epochs`` full-batch Adam steps on the mean squared error of ``x`` to ``y``.

        About 20 NumPy calls per epoch on preallocated buffers (the straightforward version made
        ~30, with temporaries), each the same floating-point operation as before, in the same
        order, so the trained weights are bitwise those of the straightforward version:

        - the biases ride in the matrix products: ``[x, 1] @ [W1; b1]`` adds ``b1`` as the last
          term of each dot product, which is the separate ``x @ W1 + b1`` (one rounding of the
          finished sum plus ``b1``); likewise ``[x, 1]^T dz`` gives the gradient of ``W1`` and,
          in its last row, that of ``b1`` (the rows of ``dz`` summed in order, as
          ``dz.sum(axis=0)`` does);
        - ReLU's derivative multiplies by a float mask, written in place;
        - Adam keeps both moments in one ``(2, P)`` array, so their decay and update are two
          calls: ``m <- decay * m + (1 - decay) * [g; g]`` with the second row's increment
          ``((1 - beta2) * g) * g``, as before.
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n, d = x.shape
        h = self.w1.shape[1]
        theta = self.theta
        size = theta.size
        wa = theta[: (d + 1) * h].reshape(d + 1, h)  # [W1; b1], a view
        w2, b2 = self.w2, self.b2
        grad = np.zeros_like(theta)
        g_wa = grad[: (d + 1) * h].reshape(d + 1, h)  # [dW1; db1]
        g_w2 = grad[(d + 1) * h : (d + 2) * h]
        xa = np.ones((n, d + 1))
        xa[:, :d] = x
        xa_t = xa.T
        act = np.empty((n, h))  # hidden layer
        act_t = act.T
        dz = np.empty((n, h))  # gradient of the pre-activation
        deriv = np.empty((n, h))  # activation derivative
        dout = np.empty(n)
        moments = np.zeros((2, size))  # Adam's first and second moments
        m1, m2 = moments[0], moments[1]
        incr = np.empty((2, size))
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        decay = np.array([[beta1], [beta2]])
        gain = 1.0 - decay  # [[1 - beta1], [1 - beta2]]
        denom = np.empty(size)
        step_v = np.empty(size)
        incr_2 = incr[1]
        g_b2 = grad[-1:]
        scale = 2.0 / n  # d mean-squared-error / d output
        # Adam's bias corrections, per step (Python floats, as before)
        root_c2 = [math.sqrt(1.0 - beta2**step) for step in range(1, epochs + 1)]
        rate = [lr / (1.0 - beta1**step) for step in range(1, epochs + 1)]
        relu = self.activation != "tanh"
        matmul, multiply, add_reduce = np.matmul, np.multiply, np.add.reduce
        for step in range(epochs):
            matmul(xa, wa, out=act)
            if relu:
                np.maximum(act, 0.0, out=act)
            else:
                np.tanh(act, out=act)
            matmul(act, w2, out=dout)
            dout += b2  # (1,): the same addition of the scalar b2
            dout -= y
            dout *= scale
            matmul(act_t, dout, out=g_w2)
            add_reduce(dout, axis=0, keepdims=True, out=g_b2)  # dout.sum(), in place
            multiply.outer(dout, w2, out=dz)
            if relu:
                np.greater(act, 0.0, out=deriv)
            else:
                multiply(act, act, out=deriv)
                np.subtract(1.0, deriv, out=deriv)
            dz *= deriv
            matmul(xa_t, dz, out=g_wa)
            # Adam (PyTorch's): the same operations as m1 = b1 m1 + (1 - b1) g, etc.
            multiply(gain, grad, out=incr)
            incr_2 *= grad
            moments *= decay
            moments += incr
            np.sqrt(m2, out=denom)
            denom /= root_c2[step]
            denom += eps
            multiply(m1, rate[step], out=step_v)
            step_v /= denom
            theta -= step_v
        return self
