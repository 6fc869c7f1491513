"""A GIN regressor on cells: the supervised architecture representation of the paper's baselines.

:class:`GINRegressor` is the GIN encoder of arch2vec (not pre-trained, deterministic) -> the mean
over a cell's real nodes (its latent vector) -> a one-hidden-layer head to one output. It is trained
on (cell, accuracy) pairs by the supervised search baselines (:mod:`arch2vec.search.supervised`)
and by :func:`supervised_embedding` for the analyses. The input of every node is, as in
:class:`~arch2vec.models.vgae.GraphAutoencoder` with ``positional=True``, its one-hot op
concatenated with the one-hot of its index; the adjacency is ``A + A^T``; padding nodes
(all-zero op rows) are left out of the mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from arch2vec.models.gin import GINEncoder
from arch2vec.models.vgae import pool_nodes
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import Cells

GIN_HIDDEN = (128, 128, 128, 128)


def reset_uniform(module: torch.nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default Linear init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from ``generator``."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, torch.nn.Linear):
                bound = 1.0 / math.sqrt(layer.in_features)
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)


class GINRegressor(torch.nn.Module):
    """GIN encoder -> mean over real nodes (the cell's latent vector) -> one-hidden-layer head.

    ``forward(ops, adj)`` gives the predicted (standardised) reward ``(B, 1)``, :meth:`embed` the
    pooled latent vector ``(B, latent)`` and :meth:`hidden` the head's hidden layer ``(B, hidden)``.
    ``ops`` is the one-hot ops ``(B, N, K)`` (zero rows for padding), ``adj`` is ``A + A^T``.
    """

    def __init__(
        self,
        num_ops: int,
        num_nodes: int,
        gin_hidden: Sequence[int] = GIN_HIDDEN,
        latent: int = 16,
        hidden: int = 128,
        activation: str = "tanh",
    ) -> None:
        super().__init__()
        self.encoder = GINEncoder(num_ops + num_nodes, gin_hidden, latent, variational=False)
        act = torch.nn.Tanh() if activation == "tanh" else torch.nn.ReLU()
        self.head = torch.nn.Sequential(
            torch.nn.Linear(latent, hidden), act, torch.nn.Linear(hidden, 1)
        )

    def embed(self, ops: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        eye = torch.eye(ops.shape[1], dtype=ops.dtype).expand(ops.shape[0], -1, -1)
        mu, _ = self.encoder(torch.cat([ops, eye], dim=-1), adj)
        return pool_nodes(mu, ops)

    def hidden(self, ops: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return self.head[:2](self.embed(ops, adj))

    def forward(self, ops: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(ops, adj))


class CellGraphs:
    """The pool's cells as model inputs, built per batch of pool indices."""

    def __init__(self, space: SearchSpace, cells: Cells) -> None:
        self.ops = cells.ops
        self.adjacency = cells.adjacency
        self.num_ops = len(space.ops)
        self.num_nodes = cells.num_nodes

    def __len__(self) -> int:
        return len(self.ops)

    def tensors(self, indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """One-hot ops ``(B, N, K)`` (padding: zero rows) and ``A + A^T`` ``(B, N, N)``."""
        ops = self.ops[indices]
        onehot = (ops[..., None] == np.arange(self.num_ops)).astype(np.float32)
        a = self.adjacency[indices].astype(np.float32)
        return torch.from_numpy(onehot), torch.from_numpy(a + a.transpose(0, 2, 1))

    @torch.no_grad()
    def apply(
        self,
        fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        indices: np.ndarray,
        batch: int,
    ) -> torch.Tensor:
        """``fn(ops, adj)`` of pool ``indices``, ``batch`` cells at a time, without gradients."""
        out = [fn(*self.tensors(indices[s : s + batch])) for s in range(0, len(indices), batch)]
        return torch.cat(out)


def supervised_embedding(
    space: SearchSpace,
    cells: Cells,
    train_idx: np.ndarray,
    targets: np.ndarray,
    seed: int,
    epochs: int = 100,
    lr: float = 1e-3,
    batch_size: int = 32,
    gin_hidden: Sequence[int] = (128, 128, 128, 128),
    latent: int = 16,
    head_hidden: int = 128,
    indices: np.ndarray | None = None,
    encode_batch: int = 4096,
    init_encoder: Mapping[str, torch.Tensor] | None = None,
) -> np.ndarray:
    """The paper's supervised architecture representation, ``(len(indices), latent)`` float32.

    ``init_encoder``: the state dict of a pre-trained arch2vec encoder (``model.encoder`` of a
    run: the same GIN, positional inputs) to start from instead of a random initialisation -- the
    pre-trained embeddings fine-tuned on the labelled cells (its ``logvar`` head is dropped).

    A fresh :class:`GINRegressor` (initialised from ``seed``) is
    trained on the cells ``train_idx`` (indices into ``cells``) to regress ``targets`` (their
    accuracies, standardised to mean 0 and std 1): ``epochs`` epochs of Adam (``lr``) on
    mini-batches of ``batch_size`` cells in a seeded order, mean squared error. Then the cells
    ``indices`` (default: all) are embedded in eval mode, ``encode_batch`` at a time: the mean of
    the GIN's node outputs over real nodes (the 16-d latent before the regression head).
    Deterministic for a seed on a given machine and thread count.
    """
    if encode_batch < 1:
        raise ValueError("supervised_embedding: encode_batch must be >= 1")
    graphs = CellGraphs(space, cells)
    net = _fit_gin(
        graphs,
        train_idx,
        targets,
        seed,
        epochs,
        lr,
        batch_size,
        init_encoder,
        0.0,
        "supervised_embedding",
        gin_hidden,
        latent,
        head_hidden,
    )
    rows = np.arange(len(graphs)) if indices is None else np.asarray(indices, dtype=np.int64)
    if len(rows) == 0:
        return np.zeros((0, latent), dtype=np.float32)
    return graphs.apply(net.embed, rows, encode_batch).numpy().astype(np.float32)


RANK_MARGIN = 0.1
"""Margin of the pairwise ranking term, in standardised target units."""


def gin_predictions(
    space: SearchSpace,
    cells: Cells,
    train_idx: np.ndarray,
    targets: np.ndarray,
    seed: int,
    members: int = 5,
    rank_weight: float = 1.0,
    epochs: int = 100,
    lr: float = 1e-3,
    batch_size: int = 32,
    init_encoder: Mapping[str, torch.Tensor] | None = None,
    indices: np.ndarray | None = None,
    encode_batch: int = 4096,
) -> np.ndarray:
    """Predicted accuracies of the cells ``indices`` (default: all), ``(len(indices),)`` float64:
    the mean of ``members`` :class:`GINRegressor` heads, member ``m`` initialised from
    ``(seed, m)`` (then from ``init_encoder``, a pre-trained arch2vec encoder, where given) and
    trained as in :func:`supervised_embedding` on the mean squared error plus ``rank_weight``
    times a pairwise ranking term: over the pairs of a mini-batch with different targets,
    ``mean(relu(RANK_MARGIN - sign(y_i - y_j) * (p_i - p_j)))``, which rewards the order the
    Kendall tau scores."""
    if members < 1 or rank_weight < 0 or encode_batch < 1:
        raise ValueError("gin_predictions: members and encode_batch must be >= 1, rank_weight >= 0")
    y = np.asarray(targets, dtype=np.float64)
    graphs = CellGraphs(space, cells)
    rows = np.arange(len(graphs)) if indices is None else np.asarray(indices, dtype=np.int64)
    total = np.zeros(len(rows))
    for m in range(members):
        member_seed = int(np.random.default_rng([seed, m]).integers(2**62))
        net = _fit_gin(
            graphs,
            train_idx,
            y,
            member_seed,
            epochs,
            lr,
            batch_size,
            init_encoder,
            rank_weight,
            "gin_predictions",
        )
        if len(rows):
            total += graphs.apply(net, rows, encode_batch)[:, 0].numpy().astype(np.float64)
    sd = float(y.std())
    return total / members * (sd if sd > 1e-12 else 1.0) + float(y.mean())


def _fit_gin(
    graphs: CellGraphs,
    train_idx: np.ndarray,
    targets: np.ndarray,
    seed: int,
    epochs: int,
    lr: float,
    batch_size: int,
    init_encoder: Mapping[str, torch.Tensor] | None,
    rank_weight: float,
    who: str,
    gin_hidden: Sequence[int] = GIN_HIDDEN,
    latent: int = 16,
    head_hidden: int = 128,
) -> GINRegressor:
    """A :class:`GINRegressor` trained on the standardised ``targets`` of ``train_idx`` (see
    :func:`supervised_embedding` and :func:`gin_predictions`), in eval mode."""
    train_idx = np.asarray(train_idx, dtype=np.int64)
    y = np.asarray(targets, dtype=np.float64)
    if train_idx.ndim != 1 or y.shape != train_idx.shape:
        raise ValueError(f"{who}: {len(y)} targets for {len(train_idx)} training cells")
    if len(train_idx) < 2 or not np.isfinite(y).all():
        raise ValueError(f"{who}: needs at least 2 training cells, finite targets")
    if epochs < 0 or batch_size < 1:
        raise ValueError(f"{who}: epochs must be >= 0, batch sizes >= 1")
    if train_idx.min() < 0 or train_idx.max() >= len(graphs):
        raise ValueError(f"{who}: training index outside 0..{len(graphs) - 1}")
    generator = torch.Generator().manual_seed(int(seed))
    with torch.random.fork_rng(devices=[]):  # the constructor's default init: leave global RNG
        net = GINRegressor(graphs.num_ops, graphs.num_nodes, gin_hidden, latent, head_hidden)
    reset_uniform(net, generator)
    if init_encoder is not None:
        state = {k: v for k, v in init_encoder.items() if not k.startswith("logvar.")}
        try:
            net.encoder.load_state_dict(state)
        except RuntimeError as e:
            first = str(e).strip().splitlines()[0]
            raise ValueError(
                f"{who}: init_encoder does not fit this GIN ({first}); it must "
                "be an arch2vec encoder of the same space, widths and latent size"
            ) from None
    sd = float(y.std())
    ys = torch.from_numpy(((y - y.mean()) / (sd if sd > 1e-12 else 1.0)).astype(np.float32))
    ops, adj = graphs.tensors(train_idx)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(ys), generator=generator)
        for start in range(0, len(ys), batch_size):
            b = order[start : start + batch_size]
            if len(b) < 2:  # batch norm needs two cells
                continue
            opt.zero_grad()
            pred = net(ops[b], adj[b])[:, 0]
            loss = torch.mean((pred - ys[b]) ** 2)
            if rank_weight > 0:
                sign = torch.sign(ys[b][:, None] - ys[b][None, :])
                hinge = torch.relu(RANK_MARGIN - sign * (pred[:, None] - pred[None, :]))
                loss = loss + rank_weight * torch.mean(hinge * (sign != 0))
            loss.backward()
            opt.step()
    net.eval()
    return net
