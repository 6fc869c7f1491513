"""Graph encoders: the arch2vec GIN encoder and the GCN encoder of the GAE/VGAE baselines.

Both read a batch of cells as dense tensors, ``ops`` ``(B, N, K)`` one-hot and ``adj``
``(B, N, N)`` the symmetrised adjacency ``A + A^T``, and return per-node latent means ``mu``
``(B, N, d)`` and log-variances ``logvar`` (``None`` for a deterministic encoder).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def _mlp_block(in_dim: int, out_dim: int) -> nn.Sequential:
    # ReLU in place: batch norm's backward does not need its output, so nothing is lost, and a
    # training step allocates one activation less per block
    return nn.Sequential(nn.Linear(in_dim, out_dim), nn.BatchNorm1d(out_dim), nn.ReLU(inplace=True))


class GINEncoder(nn.Module):
    """Graph isomorphism network (Xu et al. 2019) as arch2vec uses it.

    Layer ``l``: ``h <- MLP_l((1 + eps_l) h + A_sym h)`` with a learnable ``eps_l`` and an MLP of
    ``mlp_layers`` linear-batchnorm-ReLU blocks; hidden sizes ``hidden`` (paper: four of 128) and
    two linear heads to ``latent`` (paper: 16) for ``mu`` and ``logvar``.
    """

    def __init__(
        self,
        in_dim: int,
        hidden: Sequence[int] = (128, 128, 128, 128),
        latent: int = 16,
        mlp_layers: int = 2,
        variational: bool = True,
    ) -> None:
        super().__init__()
        self.eps = nn.Parameter(torch.zeros(len(hidden)))
        layers = []
        prev = in_dim
        for width in hidden:
            blocks = [_mlp_block(prev, width)] + [
                _mlp_block(width, width) for _ in range(mlp_layers - 1)
            ]
            layers.append(nn.Sequential(*blocks))
            prev = width
        self.layers = nn.ModuleList(layers)
        self.mu = nn.Linear(prev, latent)
        self.logvar = nn.Linear(prev, latent) if variational else None

    def forward(self, ops: torch.Tensor, adj: torch.Tensor):
        batch, nodes, _ = ops.shape
        h = ops
        for eps, layer in zip(self.eps, self.layers, strict=True):
            agg = (1 + eps) * h + torch.bmm(adj, h)
            h = layer(agg.reshape(batch * nodes, -1)).reshape(batch, nodes, -1)
        mu = self.mu(h)
        logvar = self.logvar(h) if self.logvar is not None else None
        return mu, logvar


class GCNEncoder(nn.Module):
    """Graph convolutional network (Kipf & Welling 2016), the encoder of GAE and VGAE.

    Layer: ``h <- ReLU(D^-1/2 (A_sym + I) D^-1/2 h W + h U)``, then linear heads for ``mu`` and
    ``logvar``. ``U`` (``self_weight=True``, the default) is a weight of the node's own features
    apart from the normalised average over it and its neighbours (``self_weight=False``: Kipf and
    Welling's layer, ``U = 0``). The average alone blurs a node's op into its neighbours': on
    NAS-Bench-101 GAE's held-out errors were the ops (op accuracy 96 %, reconstruction 76 % after
    24 epochs); with ``U`` the ops come back (100 % after 4 epochs on 100k cells,
    BENCHMARKS.md). Three layers (the default of :class:`~arch2vec.models.train.PretrainConfig`),
    with node positions as inputs.
    """

    def __init__(
        self,
        in_dim: int,
        hidden: Sequence[int] = (128, 128, 128),
        latent: int = 16,
        variational: bool = True,
        self_weight: bool = True,
    ) -> None:
        super().__init__()
        dims = [in_dim, *hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:], strict=False))
        self.selfs = (
            nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip(dims, dims[1:], strict=False))
            if self_weight
            else None
        )
        self.mu = nn.Linear(dims[-1], latent)
        self.logvar = nn.Linear(dims[-1], latent) if variational else None

    @staticmethod
    def normalise(adj: torch.Tensor) -> torch.Tensor:
        a = adj + torch.eye(adj.shape[-1], dtype=adj.dtype, device=adj.device)
        d = a.sum(-1).rsqrt()
        return d.unsqueeze(-1) * a * d.unsqueeze(-2)

    def forward(self, ops: torch.Tensor, adj: torch.Tensor):
        norm = self.normalise(adj)
        h = ops
        for i, layer in enumerate(self.layers):
            mixed = torch.bmm(norm, layer(h))
            h = torch.relu(mixed if self.selfs is None else mixed + self.selfs[i](h))
        mu = self.mu(h)
        logvar = self.logvar(h) if self.logvar is not None else None
        return mu, logvar
