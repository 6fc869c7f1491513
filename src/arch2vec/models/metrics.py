"""Table 1 of the paper: reconstruction accuracy, validity and uniqueness of a pre-trained model.

- ``reconstruction_accuracy``: share of held-out cells decoded exactly from their own latent means
  (argmax ops, edges where ``p > 0.5``); ``op_accuracy`` / ``edge_accuracy`` per element.
- ``validity``: ``samples`` latents ``z ~ N(0, I)`` per node, scaled by the standard deviation and
  shifted by the mean of the training cells' encoded node means, decoded; the share that are valid
  cells of the space. Mean and std are taken per node position and latent dimension (over the
  training cells), as the reference implementation does: pooled over positions, independent
  per-node samples could not tell the input node from the output node.
- ``uniqueness``: distinct hashes among the valid decoded cells, as a share of the valid ones.

All as fractions in [0, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from arch2vec.models.vgae import cell_tensors, decode, encode
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import Cells


def reconstruction_rates(decoded: Cells, target: Cells) -> dict[str, float]:
    """Exact-match, per-op and per-upper-triangle-edge agreement of decoded and target cells."""
    rows, cols = np.triu_indices(target.num_nodes, k=1)
    ok_ops = decoded.ops == target.ops
    ok_adj = decoded.adjacency[:, rows, cols] == target.adjacency[:, rows, cols]
    return {
        "reconstruction_accuracy": float((ok_ops.all(1) & ok_adj.all(1)).mean()),
        "op_accuracy": float(ok_ops.mean()),
        "edge_accuracy": float(ok_adj.mean()),
    }


def validity_uniqueness(space: SearchSpace, decoded: Cells) -> tuple[float, float]:
    """Share of decoded cells valid in ``space``; share of distinct hashes among the valid."""
    if len(decoded) == 0:
        return 0.0, 0.0
    valid = space.is_valid(decoded)
    if not valid.any():
        return 0.0, 0.0
    hashes = space.hash(decoded[np.flatnonzero(valid)])
    return float(valid.mean()), len(set(hashes.tolist())) / int(valid.sum())


def reconstruction(model, cells: Cells, num_ops: int) -> dict[str, float]:
    """:func:`reconstruction_rates` of decoding each cell's own latent means."""
    mu, _ = encode(model, cell_tensors(cells, num_ops))
    adj, ops = decode(model, mu)
    return reconstruction_rates(Cells(adj, ops, cells.space), cells)


def prior_samples(
    model, train_data: dict[str, torch.Tensor], samples: int, seed: int, num_nodes: int
) -> torch.Tensor:
    """``samples`` latents from N(0, I) per node, matched to the training latents' mean and std
    per node position and dimension."""
    mu, _ = encode(model, train_data)
    mean, std = mu.mean(0), mu.std(0)
    g = torch.Generator().manual_seed(seed)
    z = torch.randn((samples, num_nodes, mu.shape[-1]), generator=g)
    return z * std + mean


def table1_metrics(
    model, space: SearchSpace, train: Cells, held: Cells, samples: int = 10_000, seed: int = 0
) -> dict[str, Any]:
    """Table 1's metrics of ``model`` (see the module docstring): reconstruction of the ``held``
    cells; validity and uniqueness of ``samples`` prior samples (seeded by ``seed``) scaled to the
    encodings of the ``train`` cells."""
    if int(samples) != samples or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples}")
    num_ops = len(space.ops)
    result: dict[str, Any] = dict(reconstruction(model, held, num_ops))
    z = prior_samples(model, cell_tensors(train, num_ops), int(samples), seed, space.num_nodes)
    adj, ops = decode(model, z)
    validity, uniqueness = validity_uniqueness(space, Cells(adj, ops, space.name))
    result.update({"validity": validity, "uniqueness": uniqueness, "samples": int(samples)})
    return result
