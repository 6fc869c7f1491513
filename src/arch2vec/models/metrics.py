"""Table 1 of the paper: reconstruction accuracy, validity and uniqueness of a pre-trained model.

- ``reconstruction_accuracy``: share of held-out cells decoded exactly from their own latent means
  (argmax ops, edges where ``p > 0.5``); ``op_accuracy`` / ``edge_accuracy`` per element.
- validity and uniqueness of ``samples`` latents ``z ~ N(0, I)`` per node, scaled by the standard
  deviation and shifted by the mean of the training cells' encoded node means, then decoded. Mean
  and std are taken per node position and latent dimension (over the training cells), as the
  reference implementation does: pooled over positions, independent per-node samples could not
  tell the input node from the output node. ``prior="full"`` (not the paper's) fits one Gaussian
  with full covariance over a cell's node latents instead (:func:`prior_samples`).

Validity and uniqueness are reported under two definitions (:func:`validity_and_uniqueness`):

- **the paper's** (``validity_paper``, ``uniqueness_paper``; these compare with the paper's
  Table 1). As the authors' pre-training scripts count them: a decoded sample is valid if it
  passes the authors' check for the space, and uniqueness is the number of distinct
  ``graph_util.hash_module`` fingerprints of the valid decoded graphs *as decoded* (not pruned;
  op indices as vertex labels) over the number of valid samples. The checks
  (:func:`paper_valid`): NAS-Bench-101 the official API's ``is_valid`` (the same as ours);
  NAS-Bench-201 ``is_valid_nasbench201``, which tests the ops only: node 0 is the input, the
  last node the output and nodes ``2 .. N-2`` carry one of the five edge ops (node 1 is not
  checked, the adjacency is not checked); DARTS ``is_valid_darts``, the six checks of
  :func:`~arch2vec.spaces.darts.paper_validity_checks` (the same as ours). Other spaces: the
  space's own ``is_valid``. ``uniqueness_exact`` counts distinct decoded ``(adjacency, ops)``
  arrays among the same valid samples, compared element by element: it differs from
  ``uniqueness_paper`` only where two samples are the same graph with its nodes in another
  order.
- **ours** (``validity_ours``, ``uniqueness_ours``; also under the older names ``validity`` and
  ``uniqueness``): the share of decoded cells that are valid cells of the space
  (:meth:`SearchSpace.is_valid`: NAS-Bench-201 needs the fixed adjacency *and* a legal op on every
  op node) and the share of distinct :meth:`SearchSpace.hash` values among them (NAS-Bench-101:
  the official hash of the *pruned* cell, so samples that prune to the same network count once).

All as fractions in [0, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from arch2vec.models.vgae import cell_tensors, decode, encode
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import Cells
from arch2vec.spaces.darts import DartsSpace, paper_validity_checks
from arch2vec.spaces.hashing import wl_digests
from arch2vec.spaces.nb201 import NB201Space


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


def paper_valid(space: SearchSpace, decoded: Cells) -> np.ndarray:
    """``(B,)`` bool: the authors' validity check of each decoded cell (module docstring)."""
    if isinstance(space, NB201Space):
        ops = decoded.ops
        if decoded.num_nodes != space.num_nodes:
            return np.zeros(len(decoded), dtype=bool)
        edge_ops = [i for i, name in enumerate(space.ops) if name not in ("input", "output")]
        ok = ops[:, 0] == space.ops.index("input")
        ok &= ops[:, -1] == space.ops.index("output")
        ok &= np.isin(ops[:, 2:-1], edge_ops).all(axis=1)  # node 1 unchecked, as theirs
        return ok
    if isinstance(space, DartsSpace):
        return paper_validity_checks(decoded).all(axis=1)  # type: ignore[return-value, unused-ignore]  # numpy: rank unknown
    return space.is_valid(decoded)


def _distinct_rows(rows: np.ndarray) -> int:
    return len(np.unique(rows, axis=0)) if len(rows) else 0


def uniform_uniqueness(cells: int, draws: int) -> float:
    """The expected share of distinct cells among ``draws`` independent draws from ``cells``
    equally likely cells: ``cells * (1 - (1 - 1/cells)**draws) / draws`` (1 for no draws).

    The most any sampler of that many cells can expect: the expected number of distinct values,
    ``sum_x 1 - (1 - p_x)**draws``, is concave in ``p`` and symmetric, so the uniform ``p`` is
    its maximum. 15,625 NB-201 cells and 7,941 draws (the paper's 79.41 % validity of 10,000
    samples) give 0.784."""
    if draws <= 0:
        return 1.0
    return float(-cells * np.expm1(draws * np.log1p(-1.0 / cells)) / draws)


def validity_and_uniqueness(space: SearchSpace, decoded: Cells) -> dict[str, float]:
    """Validity and uniqueness of decoded cells by the paper's definitions and by ours (module
    docstring): ``validity_paper``, ``uniqueness_paper`` (compare with the paper),
    ``uniqueness_exact``, ``validity_ours``, ``uniqueness_ours``, and ``validity`` /
    ``uniqueness`` (= ours, the names used before both were reported). Fractions; uniqueness is
    0 where no sample is valid. Also ``uniqueness_ceiling``: :func:`uniform_uniqueness` of the
    space's cells at the number of samples valid by our definition, the most ``uniqueness_ours``
    can expect; and ``in_space_paper``: the share of the samples valid by the paper's
    definition that are valid cells of the space (NB-201: the paper's check passes graphs with
    any adjacency, which our definition and the space do not)."""
    validity, uniqueness = validity_uniqueness(space, decoded)
    result = {
        "validity": validity,
        "uniqueness": uniqueness,
        "validity_ours": validity,
        "uniqueness_ours": uniqueness,
        "validity_paper": 0.0,
        "uniqueness_paper": 0.0,
        "uniqueness_exact": 0.0,
        "uniqueness_ceiling": uniform_uniqueness(space.size(), int(round(validity * len(decoded)))),
        "in_space_paper": 0.0,
    }
    if len(decoded) == 0:
        return result
    valid = paper_valid(space, decoded)
    count = int(valid.sum())
    result["validity_paper"] = count / len(decoded)
    if count:
        chosen = decoded[np.flatnonzero(valid)]
        # graph_util.hash_module of the decoded graph as it is: every node a vertex, op index
        # (PAD included) as its label; the same partition as the authors' one-hot labels
        digests = wl_digests(chosen.adjacency, chosen.ops.astype(np.int64))
        result["uniqueness_paper"] = _distinct_rows(digests) / count
        arrays = np.concatenate(
            [chosen.adjacency.reshape(count, -1), chosen.ops.astype(np.int16)], axis=1
        )
        result["uniqueness_exact"] = _distinct_rows(arrays) / count
        result["in_space_paper"] = float(space.is_valid(chosen).mean())
    return result


def reconstruction(model, cells: Cells, num_ops: int) -> dict[str, float]:
    """:func:`reconstruction_rates` of decoding each cell's own latent means."""
    mu, _ = encode(model, cell_tensors(cells, num_ops))
    adj, ops = decode(model, mu)
    return reconstruction_rates(Cells(adj, ops, cells.space), cells)


PRIORS = ("diagonal", "full")
"""How :func:`prior_samples` fits the training latents: ``diagonal`` (the paper's, the default)
or ``full`` (one Gaussian over all node positions and dimensions together)."""


def check_prior(prior: str) -> str:
    """``prior`` if it is one of :data:`PRIORS`, else a one-line ``ValueError``."""
    if prior not in PRIORS:
        raise ValueError(f"prior must be one of {', '.join(PRIORS)}, got {prior!r}")
    return prior


def prior_samples(
    model,
    train_data: dict[str, torch.Tensor],
    samples: int,
    seed: int,
    num_nodes: int,
    prior: str = "diagonal",
) -> torch.Tensor:
    """``samples`` latents ``(samples, num_nodes, d)`` from N(0, I), matched to the training
    latents: ``prior="diagonal"`` (the reference implementation's) to their mean and std per
    node position and dimension, each drawn independently; ``prior="full"`` to their mean and
    full covariance over the ``num_nodes * d`` values of a cell, so that what the training cells
    encode together (a node's latent given the others') is kept."""
    check_prior(prior)
    mu, _ = encode(model, train_data)
    g = torch.Generator().manual_seed(seed)
    z = torch.randn((samples, num_nodes, mu.shape[-1]), generator=g)
    if prior == "diagonal":
        return z * mu.std(0) + mu.mean(0)
    flat = mu.reshape(len(mu), -1).double()
    cov = torch.cov(flat.T)
    # a latent dimension the encoder never uses has (close to) zero variance: a small jitter
    # relative to the largest variance keeps the factorisation defined
    jitter = 1e-9 * float(cov.diagonal().max().clamp_min(1e-12))
    chol = torch.linalg.cholesky(cov + jitter * torch.eye(len(cov), dtype=cov.dtype))
    out = flat.mean(0) + z.reshape(samples, -1).double() @ chol.T
    return out.float().reshape(samples, num_nodes, mu.shape[-1])


def table1_metrics(
    model,
    space: SearchSpace,
    train: Cells,
    held: Cells,
    samples: int = 10_000,
    seed: int = 0,
    prior: str = "diagonal",
) -> dict[str, Any]:
    """Table 1's metrics of ``model`` (see the module docstring): reconstruction of the ``held``
    cells; validity and uniqueness (:func:`validity_and_uniqueness`: the paper's definitions and
    ours) of ``samples`` prior samples (seeded by ``seed``) fitted to the encodings of the
    ``train`` cells as ``prior`` says (:func:`prior_samples`)."""
    if int(samples) != samples or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples}")
    num_ops = len(space.ops)
    result: dict[str, Any] = dict(reconstruction(model, held, num_ops))
    z = prior_samples(
        model, cell_tensors(train, num_ops), int(samples), seed, space.num_nodes, prior
    )
    adj, ops = decode(model, z)
    result.update(validity_and_uniqueness(space, Cells(adj, ops, space.name)))
    result["samples"] = int(samples)
    result["prior"] = prior
    return result
