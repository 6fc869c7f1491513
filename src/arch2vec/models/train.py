"""Pre-training: the configuration and the one training loop of arch2vec, GAE and VGAE.

Every random choice is derived from the seed: the 90/10 split from ``seed``, the initialisation
from ``seed``, the shuffling of epoch ``e`` from ``(seed, e)`` and the reparameterisation noise of
epoch ``e`` from ``(seed, e)`` too, so training resumed from the state after any epoch ends
bit-identical to an uninterrupted run. Run directories (checkpoints, resume) are
:mod:`arch2vec.models.run`; the estimator objects are :mod:`arch2vec.models.api`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch

from arch2vec import checks, spaces, threads
from arch2vec.models import DECODERS, MODELS
from arch2vec.models.metrics import reconstruction
from arch2vec.models.vgae import GraphAutoencoder, cell_tensors, encode, pool_nodes
from arch2vec.progress import Progress
from arch2vec.spaces import spec as space_specs
from arch2vec.spaces.base import MAX_POOL_CELLS
from arch2vec.spaces.cells import Cells

# Per-space defaults, chosen by measurement (BENCHMARKS.md). The large spaces train at batch 256
# with lr 3e-3 on 2 threads (2.4x the throughput of the paper's batch 32 / lr 1e-3 at the same
# held-out accuracy and validity); NB-101 reconstructs fully within 4 epochs. DARTS trains with
# the bilinear decoder (DEFAULT_DECODER) and beta 0.02 for 4 epochs: 99.98 % held-out
# reconstruction and 50 % validity after 3 (the inner product: 96.4 % and 19 % after 24).
# NB-201 trains at batch 128 with lr 4e-3 for 12 epochs: a third of the
# optimiser steps of batch 32 / lr 1e-3 / 10 epochs (issue 14: the demo's pre-training time is
# per-step overhead), with the bilinear decoder and a cosine schedule (issue 21): 100 % held-out
# reconstruction on three seeds (the inner product at a constant lr: 97.89 %), and embeddings on
# which arch2vec-RL finds what it found with the slower previous defaults (+0.19 / +0.59 points
# on CIFAR-10 / CIFAR-100 over the inner product at these settings, 1,500 paired runs each),
# while arch2vec-BO gives up 0.04 / 0.06.
# Decoder dropout trades reconstruction for validity of prior samples: 0.3, the reference
# implementation's value, costs NB-101 about 2 points of reconstruction after 3 epochs.
# GAE / VGAE (issues 16, 21): three GCN layers with a weight of a node's own features
# (models.gin), no decoder dropout, arch2vec's epochs: with that weight they reconstruct every
# held-out NB-201 cell after 6 of 12 epochs (without it they needed six times arch2vec's
# epochs and still fell short on NB-101). BENCHMARKS.md, "Table 1 in full (issue 21)".
GCN_HIDDEN = [128, 128, 128]
MAX_WIDTH = 65_536  # latent size and layer widths
MAX_LAYERS = 64
MAX_LR = 10.0
MAX_BETA = 1e6
SPACE_DEFAULTS: dict[str, dict[str, Any]] = {
    "nb101": {"epochs": 4, "dropout": 0.1, "batch_size": 256, "lr": 3e-3},
    "nb201": {
        "epochs": 12,
        "dropout": 0.3,
        "batch_size": 128,
        "lr": 4e-3,
        "schedule": "cosine",
    },
    "darts": {
        "epochs": 4,
        "dropout": 0.1,
        "batch_size": 256,
        "lr": 3e-3,
        "beta": 0.02,
        "schedule": "cosine",
    },
}
DEFAULT_DECODER = {"darts": "bilinear", "nb201": "bilinear"}
"""Decoders chosen by measurement where the paper's inner product falls short (BENCHMARKS.md,
"Table 1 in full"); every other space and model: ``"inner"``. Runs saved before the option
existed are read as ``"inner"``."""
SCHEDULES = ("constant", "cosine")
BETA = 0.005
"""The weight of the KL term where a space has no measured one (NB-101, NB-201: the paper's
order of magnitude)."""
GENERIC_STEPS = 4_000
"""Optimiser steps a space without measured defaults trains for (10 epochs of NB-201's 14,062
training cells at the paper's batch 32)."""


def generic_defaults(num_cells: int) -> dict[str, Any]:
    """Defaults for a space without measured ones (a plugin or a spec), scaled by its pool: batch
    32 and lr 1e-3 (the paper's) up to 50,000 cells, else batch 256 and lr 3e-3 (NB-101's); enough
    epochs for about :data:`GENERIC_STEPS` steps on the 90% training split, 2 to 200; dropout 0.1.
    """
    batch = 32 if num_cells <= 50_000 else 256
    steps_per_epoch = max(1, -(-int(0.9 * num_cells) // batch))
    epochs = min(200, max(2, -(-GENERIC_STEPS // steps_per_epoch)))
    return {
        "epochs": epochs,
        "dropout": 0.1,
        "batch_size": batch,
        "lr": 1e-3 if batch == 32 else 3e-3,
    }


@dataclass
class PretrainConfig:
    """Everything that determines a pre-training run (``data_dir`` only says where caches are)."""

    space: str
    model: str = "arch2vec"
    epochs: int = 0  # 0 (and < 0 for the floats): the space's default from SPACE_DEFAULTS
    batch_size: int = 0
    lr: float = -1.0
    beta: float = -1.0  # < 0: the space's default (BETA, or SPACE_DEFAULTS)
    dropout: float = -1.0  # on z before decoding while training; < 0: the space's default
    positional: bool = True  # node index as an input feature (see models.vgae)
    decoder: str = ""  # "inner" (the paper's) or "bilinear" (models.vgae); "": DEFAULT_DECODER
    self_weight: bool = True  # GAE / VGAE: the GCN's own weight of a node's features (models.gin)
    schedule: str = ""  # "constant" lr, or "cosine" (to 0 at the last step); "": the space's
    hidden: list[int] = field(default_factory=list)  # []: 4 x 128 (GIN), 3 x 128 (GCN)
    latent: int = 16
    holdout: float = 0.1
    seed: int = 0
    threads: int = 0  # 0: threads.DEFAULT, one (measured on a shared CPU; BENCHMARKS.md)
    samples: int = 600_000  # DARTS pool size
    pool_seed: int = 0  # DARTS pool seed
    data_dir: str | None = None
    spec: dict[str, Any] | None = None  # a space described by a spec (arch2vec.spaces.spec)

    def __post_init__(self) -> None:
        if not isinstance(self.space, str) or not self.space:
            raise ValueError(f"space must be a space's name or spec file, got {self.space!r}")
        if self.spec is None and space_specs.looks_like_spec(self.space):
            spec = space_specs.SpaceSpec.load(self.space)  # the run keeps the spec itself
            self.space, self.spec = spec.name, spec.to_dict()
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; expected one of {list(MODELS)}")
        if self.decoder == "":
            spaced = self.spec is None and self.space in DEFAULT_DECODER
            self.decoder = DEFAULT_DECODER[self.space] if spaced else "inner"
        if self.schedule == "":
            spaced = self.spec is None and self.space in SPACE_DEFAULTS
            self.schedule = (
                SPACE_DEFAULTS[self.space].get("schedule", "constant") if spaced else "constant"
            )
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )
        for name in ("positional", "self_weight"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, got {self.decoder!r}")
        for name in ("lr", "beta", "dropout", "holdout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise ValueError(f"{name} must be a number, got {value!r}")
            if abs(value) == float("inf"):
                raise ValueError(f"{name} must be finite, got {value}")
        for name, lo, hi in (
            ("epochs", 1, checks.MAX_EPOCHS),
            ("batch_size", 1, checks.MAX_BATCH),
            ("latent", 1, MAX_WIDTH),
            ("threads", 1, checks.cores()),
            ("samples", 1, MAX_POOL_CELLS),
            ("pool_seed", 0, checks.SEED_MAX),
            ("seed", 0, checks.SEED_MAX),
        ):
            value = getattr(self, name)
            if not (  # 0: the default
                type(value) is int and value == 0 and name in ("epochs", "batch_size", "threads")
            ):
                checks.integer(name, value, lo, hi)
        if (
            not isinstance(self.hidden, list)
            or not all(
                isinstance(h, int) and not isinstance(h, bool) and 0 < h <= MAX_WIDTH
                for h in self.hidden
            )
            or len(self.hidden) > MAX_LAYERS
        ):
            raise ValueError(
                f"hidden must be a list of at most {MAX_LAYERS} layer widths in 1..{MAX_WIDTH}, "
                f"got {self.hidden!r}"
            )
        if not self.hidden:
            self.hidden = [128, 128, 128, 128] if self.model == "arch2vec" else list(GCN_HIDDEN)
        if self.beta < 0:
            spaced = self.spec is None and self.space in SPACE_DEFAULTS
            self.beta = SPACE_DEFAULTS[self.space].get("beta", BETA) if spaced else BETA
        if self.space in SPACE_DEFAULTS and self.spec is None:
            defaults = dict(SPACE_DEFAULTS[self.space])
        elif self.epochs and self.batch_size and self.lr >= 0 and self.dropout >= 0:
            defaults = {}  # nothing to fill in: do not build the space for it
        else:
            defaults = generic_defaults(len(self.load_space().all()))
        if self.model != "arch2vec" and defaults:  # GAE / VGAE: no decoder dropout
            defaults["dropout"] = 0.0
        for name in ("epochs", "batch_size"):
            if getattr(self, name) == 0:
                setattr(self, name, defaults[name])
        for name in ("dropout", "lr"):
            if getattr(self, name) < 0:
                setattr(self, name, defaults[name])
        checks.number("dropout", self.dropout, 0, 1, hi_open=True)
        checks.number("lr", self.lr, 0, MAX_LR, lo_open=True)
        checks.number("beta", self.beta, 0, MAX_BETA)
        if self.threads == 0:
            self.threads = threads.DEFAULT
        for name in ("epochs", "batch_size", "latent", "threads"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 < self.holdout < 1:
            raise ValueError(f"holdout must be between 0 and 1, got {self.holdout}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PretrainConfig:
        """A configuration as ``config.json`` holds it. A run made on a machine with more cores
        than this one reads with this machine's cores as its thread count."""
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        d.setdefault("decoder", "inner")  # saved before decoders were an option
        d.setdefault("self_weight", False)  # saved before the GCN had one
        d.setdefault("schedule", "constant")  # saved before schedules
        if type(d.get("threads")) is int and d["threads"] > checks.cores():
            d["threads"] = checks.cores()
        return cls(**d)

    def identity(self) -> dict[str, Any]:
        """The fields that must match for ``--resume`` (all but epochs and data_dir)."""
        d = asdict(self)
        d.pop("epochs")
        d.pop("data_dir")
        return d

    def load_space(self) -> spaces.SearchSpace:
        registered = self.spec is None and self.space in spaces.SPACES
        takes = spaces.options_of(self.space) if registered else ()
        pool = {"samples": self.samples, "seed": self.pool_seed}  # a sampled space's (DARTS)
        return spaces.get(
            self.space,
            data_dir=self.data_dir,
            spec=self.spec,
            **{k: v for k, v in pool.items() if takes is None or k in takes},
        )


def split(num_cells: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train / held-out pool indices (each sorted)."""
    perm = np.random.default_rng([seed, 0x5EED]).permutation(num_cells)
    n_hold = max(1, int(round(num_cells * holdout)))
    return np.sort(perm[n_hold:]), np.sort(perm[:n_hold])


def build_model(config: PretrainConfig, space: spaces.SearchSpace) -> GraphAutoencoder:
    torch.manual_seed(config.seed)
    return GraphAutoencoder(
        len(space.ops),
        space.num_nodes,
        model=config.model,
        pad_class=space.padded,
        hidden=config.hidden,
        latent=config.latent,
        dropout=config.dropout,
        positional=config.positional,
        decoder=config.decoder,
        self_weight=config.self_weight,
    )


def train_epochs(
    config: PretrainConfig,
    model: GraphAutoencoder,
    optimizer: torch.optim.Optimizer,
    train: Cells,
    held: Cells,
    num_ops: int,
    start_epoch: int = 0,
    progress: bool = True,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Train ``model`` from ``start_epoch`` to ``config.epochs`` on the ``train`` cells; after
    each epoch measure the reconstruction of the ``held`` cells and call ``on_epoch(record)``
    (a run directory checkpoints there). Returns the records of the epochs trained here, on
    ``config.threads`` threads (:mod:`arch2vec.threads`)."""
    with threads.limited(config.threads):
        data = cell_tensors(train, num_ops)
        steps = -(-len(train) // config.batch_size)
        bar = Progress(
            total=config.epochs * steps,
            initial=start_epoch * steps,
            unit="step",
            desc=f"pretrain {config.model} on {config.space}",
            enabled=progress,
        )
        records = []
        model.train()
        with bar:
            for epoch in range(start_epoch, config.epochs):
                t0 = time.perf_counter()
                order = torch.from_numpy(
                    np.random.default_rng([config.seed, epoch]).permutation(len(train))
                )
                noise = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
                total = 0.0
                for step in range(steps):
                    if config.schedule == "cosine":
                        done = (epoch * steps + step) / (config.epochs * steps)
                        for group in optimizer.param_groups:
                            group["lr"] = config.lr * 0.5 * (1.0 + math.cos(math.pi * done))
                    b = order[step * config.batch_size : (step + 1) * config.batch_size]
                    op_logits, adj_logits, mu, logvar = model(
                        data["ops"][b], data["adj"][b], generator=noise
                    )
                    loss, _ = model.loss(
                        op_logits,
                        adj_logits,
                        mu,
                        logvar,
                        data["op_target"][b],
                        data["adj_target"][b],
                        beta=config.beta,
                    )
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(b)
                    bar.update(1)
                seconds = time.perf_counter() - t0
                if not math.isfinite(total):
                    raise RuntimeError(
                        f"training diverged in epoch {epoch + 1} (the loss is {total}); try a "
                        "smaller lr or beta"
                    )
                record = {
                    "epoch": epoch + 1,
                    "loss": total / len(train),
                    "seconds": round(seconds, 2),
                    "cells_per_second": round(len(train) / seconds, 1),
                    **{f"heldout_{k}": v for k, v in reconstruction(model, held, num_ops).items()},
                }
                model.train()
                records.append(record)
                if on_epoch is not None:
                    on_epoch(record)
                bar.note(
                    epoch=f"{epoch + 1}/{config.epochs}",
                    loss=f"{record['loss']:.4f}",
                    heldout=f"{record['heldout_reconstruction_accuracy']:.4f}",
                )
        model.eval()
        return records


def embed_cells(model: GraphAutoencoder, cells: Cells, num_ops: int) -> np.ndarray:
    """``(B, d)`` float32 cell embeddings (see :func:`arch2vec.models.vgae.pool_nodes`)."""
    data = cell_tensors(cells, num_ops)
    mu, _ = encode(model, data)
    return pool_nodes(mu, data["ops"]).numpy().astype(np.float32)
