"""Graph autoencoders over cells: arch2vec (variational GIN), and the GAE / VGAE baselines.

All three share one of two decoders (``decoder``):

- ``"inner"``, the paper's: ``p(A_ij = 1) = sigmoid(z_i . z_j)`` for ``i < j`` (cells are DAGs in
  topological order, so the upper triangle is the whole adjacency) and per-node op probabilities
  ``softmax(W z_i + b)``;
- ``"bilinear"``: ``p(A_ij = 1) = sigmoid(z_i^T M z_j + b_ij)`` with a learned ``M`` and a
  learned bias per node pair, and op logits ``(W + W_i) z_i + b + c_i``, a linear head per node
  position (``M`` starts at the identity, ``b_ij``, ``W_i`` and ``c_i`` at zero, so training
  starts from the paper's decoder). The per-position heads keep prior samples from decoding
  a type that never occurs at their position (on DARTS an input or output type on an op node,
  28 % of the samples with one shared head, 0.02 % with them). The inner product is
  symmetric and position-blind: it must keep ``z_i . z_j < 0`` for every pair of nodes that
  never share an edge by making their latents point apart, the same latents that must point
  together for pairs whose edge depends on the cell. On DARTS (measured, BENCHMARKS.md) all of
  the paper decoder's held-out errors are such false edges between op nodes, three of the five
  commonest on pairs that are never connected in any cell of the space (``7 -> 8``,
  ``4 -> 6``, ``6 -> 8``); the pair bias learns that prior, ``M`` the direction of an edge.

In a space whose cells have padding nodes (NAS-Bench-101 cells with fewer
than seven nodes) the op decoder has one extra class, "no node", so a decoded cell knows its size;
edges touching a decoded "no node" are dropped.

Loss = cross-entropy of the ops + binary cross-entropy of the upper-triangle edges (each a mean
over its entries) + ``beta`` x KL(q(z | cell) || N(0, I)) (summed over latent dimensions, averaged
over nodes). GAE has no KL term and no sampling.

Node positions. With ``positional=True`` (the default) every node's input is its one-hot op plus
a one-hot of its index in the cell. An inner-product decoder predicts an edge between any two nodes
with equal latents (``z . z > 0``), and a permutation-equivariant encoder gives equal latents to
automorphic nodes -- e.g. two parallel branches with the same op, common in NAS-Bench-101 -- so
without positions such cells cannot be reconstructed at all. Cells are stored in a canonical node
order, so the position is well defined; the decoder is order-specific anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from arch2vec.models import DECODERS, MODELS
from arch2vec.models.gin import GCNEncoder, GINEncoder


class GraphAutoencoder(nn.Module):
    upper: torch.Tensor  # a buffer: the (N, N) strictly upper triangle

    def __init__(
        self,
        num_ops: int,
        num_nodes: int,
        model: str = "arch2vec",
        pad_class: bool = False,
        hidden: Sequence[int] = (128, 128, 128, 128),
        latent: int = 16,
        dropout: float = 0.0,
        positional: bool = True,
        decoder: str = "inner",
        self_weight: bool = True,
    ) -> None:
        super().__init__()
        if decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r}; expected one of {', '.join(DECODERS)}")
        self.decoder = decoder
        self.dropout = dropout
        self.positional = positional
        in_dim = num_ops + (num_nodes if positional else 0)
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
        self.model = model
        self.num_ops = num_ops
        self.pad_class = pad_class
        self.variational = model != "gae"
        self.encoder: GINEncoder | GCNEncoder
        if model == "arch2vec":
            self.encoder = GINEncoder(in_dim, hidden, latent, variational=True)
        else:
            self.encoder = GCNEncoder(
                in_dim, hidden, latent, variational=self.variational, self_weight=self_weight
            )
        self.op_head = nn.Linear(latent, num_ops + int(pad_class))
        upper = torch.triu(torch.ones(num_nodes, num_nodes, dtype=torch.bool), diagonal=1)
        self.register_buffer("upper", upper, persistent=False)
        if decoder == "bilinear":
            self.edge_metric = nn.Parameter(torch.eye(latent))
            self.edge_bias = nn.Parameter(torch.zeros(int(upper.sum())))
            classes = num_ops + int(pad_class)
            self.op_weight = nn.Parameter(torch.zeros(num_nodes, classes, latent))
            self.op_bias = nn.Parameter(torch.zeros(num_nodes, classes))

    def encode(self, ops: torch.Tensor, adj: torch.Tensor):
        if self.positional:
            eye = torch.eye(ops.shape[1], dtype=ops.dtype).expand(ops.shape[0], -1, -1)
            ops = torch.cat([ops, eye], dim=-1)
        return self.encoder(ops, adj)

    def decode_logits(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``z`` ``(B, N, d)`` -> op logits ``(B, N, K[+1])`` and edge logits ``(B, E)`` (upper)."""
        if self.decoder == "inner":
            adj_logits = torch.bmm(z, z.transpose(1, 2))[:, self.upper]
            return self.op_head(z), adj_logits
        adj_logits = torch.bmm(z @ self.edge_metric, z.transpose(1, 2))[:, self.upper]
        op_logits = self.op_head(z) + torch.einsum("bnd,nkd->bnk", z, self.op_weight)
        return op_logits + self.op_bias, adj_logits + self.edge_bias

    def forward(self, ops: torch.Tensor, adj: torch.Tensor, generator=None):
        mu, logvar = self.encode(ops, adj)
        z = mu
        if self.training and logvar is not None:
            noise = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
            z = mu + noise * torch.exp(0.5 * logvar)
        if self.training and self.dropout > 0:
            keep = torch.rand(z.shape, generator=generator, dtype=z.dtype) >= self.dropout
            z = z * keep / (1 - self.dropout)
        op_logits, adj_logits = self.decode_logits(z)
        return op_logits, adj_logits, mu, logvar

    def loss(
        self,
        op_logits: torch.Tensor,
        adj_logits: torch.Tensor,
        mu: torch.Tensor,
        logvar: torch.Tensor | None,
        op_target: torch.Tensor,
        adj_target: torch.Tensor,
        beta: float,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Total loss and its parts (detached 0-d tensors: reading one is a ``float(...)``
        away, and a training step that does not read them pays nothing for them); targets: op
        class per node, upper-triangle edges (float)."""
        ce = F.cross_entropy(op_logits.reshape(-1, op_logits.shape[-1]), op_target.reshape(-1))
        bce = F.binary_cross_entropy_with_logits(adj_logits, adj_target)
        total = ce + bce
        kl = torch.zeros((), dtype=mu.dtype)
        if logvar is not None:
            kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1).mean()
            total = total + beta * kl
        parts = {"ops": ce.detach(), "adj": bce.detach(), "kl": kl.detach()}
        return total, parts


# ----------------------------------------------------------------------------- cells <-> tensors


def cell_tensors(cells, num_ops: int) -> dict[str, torch.Tensor]:
    """Model inputs and targets of a ``Cells`` batch.

    ``ops`` one-hot ``(B, N, K)``, ``adj`` ``A + A^T`` ``(B, N, N)``, ``op_target`` class per node
    (``K`` = "no node" for padding) and ``adj_target`` the upper-triangle edges ``(B, E)``.
    """
    import numpy as np

    rows, cols = np.triu_indices(cells.num_nodes, k=1)
    op_target = np.where(cells.ops < 0, num_ops, cells.ops).astype(np.int64)
    return {
        "ops": torch.from_numpy(cells.onehot(num_ops)),
        "adj": torch.from_numpy(cells.symmetric()),
        "op_target": torch.from_numpy(op_target),
        "adj_target": torch.from_numpy(cells.adjacency[:, rows, cols].astype(np.float32)),
    }


@torch.no_grad()
def encode(model: GraphAutoencoder, data: dict[str, torch.Tensor], batch_size: int = 8192):
    """Per-node ``mu`` (and ``logvar``, or ``None``) of every cell, in eval mode, as tensors."""
    was_training = model.training
    model.eval()
    mus, logvars = [], []
    for start in range(0, len(data["ops"]), batch_size):
        mu, logvar = model.encode(
            data["ops"][start : start + batch_size], data["adj"][start : start + batch_size]
        )
        mus.append(mu)
        logvars.append(logvar)
    model.train(was_training)
    mu = torch.cat(mus) if mus else torch.zeros(0)
    logvar = torch.cat(logvars) if logvars and logvars[0] is not None else None
    return mu, logvar


@torch.no_grad()
def decode(model: GraphAutoencoder, z: torch.Tensor, batch_size: int = 8192):
    """Decode latents ``(B, N, d)`` to ``(adjacency (B, N, N) uint8, ops (B, N) int8)``.

    Ops by argmax (the "no node" class becomes ``PAD``), edges where ``p > 0.5`` on the upper
    triangle; edges touching a "no node" are dropped.
    """
    import numpy as np

    was_training = model.training
    model.eval()
    n = z.shape[1]
    rows, cols = np.triu_indices(n, k=1)
    adjs, opss = [], []
    for start in range(0, len(z), batch_size):
        op_logits, adj_logits = model.decode_logits(z[start : start + batch_size])
        ops = op_logits.argmax(-1).numpy().astype(np.int8)
        ops[ops == model.num_ops] = -1
        adj = np.zeros((len(ops), n, n), dtype=np.uint8)
        adj[:, rows, cols] = (adj_logits > 0).numpy()
        real = ops >= 0
        adj &= (real[:, :, None] & real[:, None, :]).astype(np.uint8)
        adjs.append(adj)
        opss.append(ops)
    model.train(was_training)
    if not adjs:
        return np.zeros((0, n, n), np.uint8), np.zeros((0, n), np.int8)
    return np.concatenate(adjs), np.concatenate(opss)


def pool_nodes(mu: torch.Tensor, ops_onehot: torch.Tensor) -> torch.Tensor:
    """Cell embedding: the mean of the node means over the cell's real nodes.

    Padding nodes (all-zero one-hot rows) are left out, so a 5-node NAS-Bench-101 cell is not
    pulled toward whatever the encoder gives padding.
    """
    real = (ops_onehot.sum(-1, keepdim=True) > 0).to(mu.dtype)
    return (mu * real).sum(1) / real.sum(1).clamp(min=1)
