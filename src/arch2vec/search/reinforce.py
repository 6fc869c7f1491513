"""REINFORCE over independent categorical choices of the discrete cell encoding.

The policy holds one vector of logits per position of :class:`~arch2vec.search.discrete.
CellEncoding` (each varying op; each free adjacency bit where the adjacency varies), all zero at
the start (uniform). A proposal samples every position from its softmax. After its reward ``r``
(percent, scaled by ``reward_scale`` = 0.01 to a fraction as in NAS-Bench-101's REINFORCE
baseline) the logits move by ``lr * (r - b) * (onehot(choice) - softmax)`` -- the closed-form
gradient of the log-probability -- and the baseline ``b`` (the first reward, then an exponential
moving average with decay ``baseline_decay``) follows. Defaults: ``lr`` 0.1, ``baseline_decay``
0.9.

Invalid and repeated samples: a sample that is not a candidate cell (``index_of_cells`` gives -1)
is skipped with a small negative update (advantage ``-invalid_penalty``, default 0.05, i.e. five
points below the baseline; the baseline is left alone) and resampled; a sample that was already
proposed is resampled without an update. After ``max_tries`` samples without a new candidate a
random unvisited candidate is proposed instead, and its reward updates the policy like any other
(off-policy, which only nudges the logits towards or away from its choices).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from arch2vec.search.base import Range, Strategy
from arch2vec.search.discrete import LOOKUP_CHUNK, CellEncoding, first_new, record_proposal
from arch2vec.spaces.base import SearchSpace


class Reinforce(Strategy):
    """REINFORCE with a moving-average baseline (see the module docstring)."""

    name = "reinforce"
    ranges = {
        "lr": Range(float, 0, 10, lo_open=True),
        "baseline_decay": Range(float, 0, 1),
        "invalid_penalty": Range(float, 0, 100),
        "reward_scale": Range(float, 0, 100, lo_open=True),
        "max_tries": Range(int, 1, 10**6),
    }

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        lr: float = 0.1,
        baseline_decay: float = 0.9,
        invalid_penalty: float = 0.05,
        reward_scale: float = 0.01,
        max_tries: int = 100,
        **common: Any,
    ) -> None:
        super().__init__(space, **common)  # embeddings, candidates, seed
        if lr <= 0 or not 0 <= baseline_decay < 1 or max_tries < 1:
            raise ValueError("reinforce: need lr > 0, 0 <= baseline_decay < 1, max_tries >= 1")
        self.lr = float(lr)
        self.baseline_decay = float(baseline_decay)
        self.invalid_penalty = float(invalid_penalty)
        self.reward_scale = float(reward_scale)
        self.max_tries = int(max_tries)
        self.encoding = CellEncoding.of(self.problem)
        k = self.encoding.num_choices
        self.mask = np.arange(k.max())[None, :] < k[:, None]  # (P, K): choices that exist
        self.logits = np.zeros(self.mask.shape)
        self.baseline: float | None = None
        self.visited: set[int] = set()
        self.codes: dict[int, np.ndarray] = {}

    def probabilities(self) -> np.ndarray:
        """``(P, K)`` softmax of each position's logits (zero where a choice does not exist)."""
        z = np.where(self.mask, self.logits, -np.inf)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def _sample(self, count: int) -> np.ndarray:
        cdf = np.cumsum(self.probabilities(), axis=1)
        u = self.rng.random((count, len(cdf), 1))
        codes = (u >= cdf[None]).sum(axis=2)
        return np.minimum(codes, self.encoding.num_choices - 1)

    def _update(self, codes: np.ndarray, advantage: float) -> None:
        grad = -self.probabilities()
        grad[np.arange(len(codes)), codes] += 1.0
        self.logits += self.lr * advantage * grad

    def ask(self) -> np.ndarray:
        index, codes = -1, None
        for start in range(0, self.max_tries, LOOKUP_CHUNK):
            samples = self._sample(min(LOOKUP_CHUNK, self.max_tries - start))
            row, indices = first_new(self.encoding, samples, self.visited)
            stop = len(samples) if row < 0 else row
            for bad in samples[:stop][indices[:stop] < 0]:
                self._update(bad, -self.invalid_penalty)
            if row >= 0:
                index, codes = int(indices[row]), samples[row]
                break
        return record_proposal(self, index, codes)

    def tell(self, indices: np.ndarray, rewards: np.ndarray, fidelity: str | None = None) -> None:
        for index, reward in zip(
            np.asarray(indices).tolist(), np.asarray(rewards).tolist(), strict=True
        ):
            codes = self.codes.pop(int(index), None)
            if codes is None or not math.isfinite(reward):
                continue  # a failed evaluation (NaN) teaches nothing
            r = self.reward_scale * float(reward)
            if self.baseline is None:
                self.baseline = r
            self._update(codes, r - self.baseline)
            self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * r
