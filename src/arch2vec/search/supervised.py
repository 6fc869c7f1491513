"""Supervised architecture representations: the GIN encoder trained from the observed rewards.

The arch2vec paper (Yan et al. 2020) contrasts its unsupervised embeddings with
"supervised architecture representation learning": the same GIN encoder, not pre-trained, but
trained jointly with the search on the (cell, accuracy) pairs observed so far. This module gives
the two counterparts of arch2vec-BO and arch2vec-RL, written from that description:

- :class:`SupervisedBO` ("supervised-bo") is :class:`~arch2vec.search.bo.ArchBO` (DNGO + expected
  improvement) whose feature network reads cells instead of embeddings: GIN encoder (hidden
  128-128-128-128, ``latent`` = 16 per node, deterministic) -> mean over the cell's real nodes ->
  the same one-hidden-layer head as BO (``hidden`` = 128, tanh) -> 1. Every iteration the whole
  network is trained from scratch on all observed (cell, standardised reward) pairs: full batch,
  Adam, BO's ``lr`` = 1e-2 and ``epochs`` = 100, mean squared error. The head's hidden layer
  (plus a constant) is the basis of BO's Bayesian linear regression, and EI is computed by BO's
  code for every unvisited candidate. The basis of the candidates comes from the trained
  encoder in eval mode (batch norm with its running statistics), ``encode_batch`` cells at a time.
- :class:`SupervisedRL` ("supervised-rl") is :class:`~arch2vec.search.rl.ArchRL` (REINFORCE, LSTM
  Gaussian policy, nearest unvisited candidate) acting in the 16-d latent space of a GIN
  regressor of the same architecture (``head_hidden`` = 128). Before the first episode the
  regressor is randomly initialised (seeded) and the candidates are embedded with it; after each
  episode it is trained further for ``encoder_epochs`` (20) epochs on all observed cells
  (mini-batches of ``encoder_batch`` = 32 cells, Adam ``encoder_lr`` = 1e-3, kept between
  episodes) and the candidates are re-embedded. The embedding is the pooled GIN output
  (before the head), standardised over the candidates by RL.

The network is :class:`~arch2vec.models.regressor.GINRegressor`.

Deviations and choices (the paper gives no details of these baselines):

- Everything BO and RL do beyond the paper (see their docstrings) applies here too: incumbent EI
  target, visited cells never proposed again, rewards standardised for the regression, etc.
- SupervisedRL continues training one regressor across episodes (20 epochs from scratch would
  underfit); the controller is not reset when the space it acts in moves, so an episode's policy
  refers to the latent coordinates of the previous episode's encoder. The REINFORCE step of an
  episode uses the actions in the space they were sampled in, before re-embedding.
- The regressor's targets are the observed rewards standardised over the observations of the
  moment (mean 0, std 1).

Cost: each SupervisedBO iteration trains the GIN (``epochs`` full-batch steps on the n observed
cells) and encodes every unvisited candidate (about 1.2e5 multiply-adds per node with the
default widths). On the 15,625-cell NAS-Bench-201 pool that is about 0.5-1 s of training plus
0.4-0.7 s of encoding on one CPU thread: a 100-query run takes about 95 s. The 423,624-cell
NAS-Bench-101 pool (7 nodes) has 24x more nodes to encode per iteration (about 10-15 s), so runs
of hundreds of queries there take hours on one thread (use ``top_k`` > 1, a GPU, or a candidate
subset). SupervisedRL encodes the pool once per episode: a 100-query NB-201 run takes about 5 s.

Observed (NB-201 CIFAR-10, 100 queries, search reward): SupervisedBO seed 0 reached 91.61 (the
pool's best; random search: 91.03 on average); SupervisedRL averaged about 90.8 over 8 seeds, no
better than random search, with or without retraining the encoder -- the controller cannot
follow a latent space that moves every episode, and a random GIN embedding is a poor space.

Determinism: torch runs on one thread; all initialisations and mini-batch orders come from
torch.Generators seeded from the strategy's ``rng``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from arch2vec.models.regressor import GIN_HIDDEN, CellGraphs, GINRegressor, reset_uniform
from arch2vec.search.base import Items, Range, SearchProblem
from arch2vec.search.bo import ArchBO
from arch2vec.search.rl import ArchRL
from arch2vec.spaces.base import SearchSpace


def _check_gin(name: str, gin_hidden: Sequence[int], latent: int, encode_batch: int) -> tuple:
    gin_hidden = tuple(int(w) for w in gin_hidden)
    if not gin_hidden or min(gin_hidden) < 1 or latent < 1:
        raise ValueError(f"{name}: gin_hidden and latent must be positive")
    if encode_batch < 1:
        raise ValueError(f"{name}: encode_batch must be >= 1")
    return gin_hidden


class SupervisedBO(ArchBO):
    """DNGO whose feature network is a GIN on the cells, trained from scratch every iteration.

    Parameters: those of :class:`~arch2vec.search.bo.ArchBO` (``init`` 16, ``top_k`` 1,
    ``epochs`` 100, ``lr`` 1e-2, ``hidden`` 128, ``activation`` relu, ``ei_target``,
    ``log_bounds``) and

    - ``gin_hidden`` ((128, 128, 128, 128)): GIN layer widths;
    - ``latent`` (16): per-node output of the GIN, mean-pooled over real nodes;
    - ``encode_batch`` (1024): cells per forward pass when computing the candidates' basis.
    """

    name = "supervised-bo"
    ranges = {
        "latent": Range(int, 1, 65_536),
        "encode_batch": Range(int, 1, 10**7),
        "gin_hidden": Items(Range(int, 1, 65_536)),
    }
    needs_embeddings = False

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        gin_hidden: Sequence[int] = GIN_HIDDEN,
        latent: int = 16,
        encode_batch: int = 1024,
        **common: Any,
    ) -> None:
        self.gin_hidden = _check_gin(self.name, gin_hidden, latent, encode_batch)
        self.latent = int(latent)
        self.encode_batch = int(encode_batch)
        super().__init__(space, **common)  # ArchBO's parameters, embeddings, candidates, seed

    def _prepare_inputs(self, problem: SearchProblem) -> int:
        torch.set_num_threads(1)
        self.graphs = CellGraphs(problem.space, problem.cells)
        return len(self.graphs)

    def _fit_network(self, indices: np.ndarray, ys: np.ndarray) -> Callable[[np.ndarray], Any]:
        """Train a fresh GIN regressor (full-batch Adam, MSE); return the regression basis of
        pool indices: its head's hidden layer plus a constant column."""
        net = GINRegressor(
            self.graphs.num_ops,
            self.graphs.num_nodes,
            self.gin_hidden,
            self.latent,
            self.hidden,
            self.activation,
        )
        reset_uniform(net, torch.Generator().manual_seed(int(self.net_rng.integers(2**62))))
        inputs = self.graphs.tensors(indices)
        yt = torch.from_numpy(ys.astype(np.float32))[:, None]
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, foreach=True)
        net.train()
        for _ in range(self.epochs):
            opt.zero_grad()
            loss = torch.mean((net(*inputs) - yt) ** 2)
            loss.backward()
            opt.step()
        net.eval()

        def basis(block: np.ndarray) -> np.ndarray:
            h = self.graphs.apply(net.hidden, block, self.encode_batch).numpy()
            return np.concatenate([h, np.ones((len(h), 1), dtype=h.dtype)], axis=1)

        return basis


class SupervisedRL(ArchRL):
    """REINFORCE in the latent space of a GIN regressor retrained on the rewards after each episode.

    Parameters: those of :class:`~arch2vec.search.rl.ArchRL` (``batch`` 16, ``hidden`` 128 LSTM
    units, ``lr`` 1e-2, ``gamma`` 0.8, ``baseline_decay`` 0.95, ``scaled_baseline``, ``sigma`` --
    1 here, the paper's: unit covariance on standardised dims --, ``standardise`` -- True here: a
    GIN regressor's outputs have no fixed scale --, ``feed``, ``baseline``) and

    - ``encoder_epochs`` (20): epochs of regressor training after each episode (0: the random
      encoder is kept);
    - ``encoder_lr`` (1e-3), ``encoder_batch`` (32): Adam learning rate and mini-batch (cells);
    - ``gin_hidden`` ((128, 128, 128, 128)), ``latent`` (16), ``head_hidden`` (128): the
      regressor; ``latent`` is the dimension of the space the controller acts in;
    - ``encode_batch`` (1024): cells per forward pass when embedding the candidates.
    """

    name = "supervised-rl"
    ranges = {
        "encoder_epochs": Range(int, 1, 10**6),
        "encoder_lr": Range(float, 0, 10, lo_open=True),
        "encoder_batch": Range(int, 1, 10**6),
        "latent": Range(int, 1, 65_536),
        "head_hidden": Range(int, 1, 65_536),
        "encode_batch": Range(int, 1, 10**7),
        "gin_hidden": Items(Range(int, 1, 65_536)),
    }
    needs_embeddings = False

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        sigma: float = 1.0,
        standardise: bool = True,
        encoder_epochs: int = 20,
        encoder_lr: float = 1e-3,
        encoder_batch: int = 32,
        gin_hidden: Sequence[int] = GIN_HIDDEN,
        latent: int = 16,
        head_hidden: int = 128,
        encode_batch: int = 1024,
        **common: Any,
    ) -> None:
        # ArchRL's constructor embeds the candidates (``_features``): set the regressor up first.
        self.gin_hidden = _check_gin(self.name, gin_hidden, latent, encode_batch)
        self.latent = int(latent)
        self.encode_batch = int(encode_batch)
        self.encoder_epochs = int(encoder_epochs)
        self.encoder_lr = float(encoder_lr)
        self.encoder_batch = int(encoder_batch)
        self.head_hidden = int(head_hidden)
        if self.encoder_epochs < 0 or self.encoder_batch < 1 or self.head_hidden < 1:
            raise ValueError(
                f"{self.name}: encoder_epochs must be >= 0, encoder_batch and head_hidden >= 1"
            )
        self.observed: list[int] = []
        self.rewards: list[float] = []
        # ArchRL's parameters (sigma and standardise with other defaults), embeddings, candidates,
        # seed
        super().__init__(space, sigma=sigma, standardise=standardise, **common)

    def _features(self) -> np.ndarray:
        """The random (seeded) regressor's embedding of the candidates; other rows zero."""
        self.graphs = CellGraphs(self.problem.space, self.problem.cells)
        seed = int(self.rng.integers(2**62))
        self.encoder_generator = torch.Generator().manual_seed(seed)
        self.regressor = GINRegressor(
            self.graphs.num_ops,
            self.graphs.num_nodes,
            self.gin_hidden,
            self.latent,
            self.head_hidden,
        )
        reset_uniform(self.regressor, self.encoder_generator)
        self.regressor.eval()
        self.encoder_optimizer = torch.optim.Adam(self.regressor.parameters(), lr=self.encoder_lr)
        feats = np.zeros((len(self.graphs), self.latent), dtype=np.float32)
        feats[self.candidates] = self.embed_candidates()
        return feats

    def embed_candidates(self) -> np.ndarray:
        """``(len(candidates), latent)`` pooled GIN outputs, in eval mode."""
        self.regressor.eval()
        emb = self.graphs.apply(self.regressor.embed, self.candidates, self.encode_batch)
        return emb.numpy()

    def train_encoder(self) -> None:
        """``encoder_epochs`` epochs of mini-batch Adam on all observed (cell, reward) pairs."""
        y = np.asarray(self.rewards, dtype=np.float64)
        sd = float(y.std())
        ys = (y - y.mean()) / (sd if sd > 1e-12 else 1.0)
        ops, adj = self.graphs.tensors(np.asarray(self.observed, dtype=np.int64))
        yt = torch.from_numpy(ys.astype(np.float32))[:, None]
        self.regressor.train()
        for _ in range(self.encoder_epochs):
            order = torch.randperm(len(yt), generator=self.encoder_generator)
            for start in range(0, len(yt), self.encoder_batch):
                b = order[start : start + self.encoder_batch]
                self.encoder_optimizer.zero_grad()
                loss = torch.mean((self.regressor(ops[b], adj[b]) - yt[b]) ** 2)
                loss.backward()
                self.encoder_optimizer.step()
        self.regressor.eval()

    def tell(self, indices: np.ndarray, rewards: np.ndarray, fidelity: str | None = None) -> None:
        super().tell(indices, rewards)  # the REINFORCE step, in the space the episode saw
        seen = set(self.observed)
        new = False
        for i, r in zip(
            np.asarray(indices, dtype=np.int64).tolist(),
            np.asarray(rewards, dtype=np.float64).tolist(),
            strict=True,
        ):
            if i not in seen and np.isfinite(r):
                seen.add(i)
                self.observed.append(i)
                self.rewards.append(r)
                new = True
        if new and self.encoder_epochs > 0:
            self.train_encoder()
            self._set_pool(self.embed_candidates())
