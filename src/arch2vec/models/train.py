"""Pre-training: one loop for arch2vec, GAE and VGAE, with atomic per-epoch checkpoints and resume.

A run directory holds ``config.json`` (the configuration and package version), ``checkpoint.pt``
(model, optimizer, completed epochs, history; replaced atomically after every epoch) and
``metrics.json`` (per-epoch loss and held-out reconstruction accuracy). Every random choice is
derived from the seed: the 90/10 split from ``seed``, the shuffling of epoch ``e`` from
``(seed, e)`` and the reparameterisation noise of epoch ``e`` from ``(seed, e)`` too, so a run
killed at any point and resumed with ``resume=True`` ends bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import io as _bytes_io
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from arch2vec import __version__, io, spaces
from arch2vec.models.metrics import reconstruction
from arch2vec.models.vgae import MODELS, GraphAutoencoder, cell_tensors, encode
from arch2vec.spaces.cells import Cells

CONFIG = "config.json"
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.json"

# Per-space defaults, chosen by measurement (BENCHMARKS.md). The large spaces train at batch 256
# with lr 3e-3 on 2 threads (2.4x the throughput of the paper's batch 32 / lr 1e-3 at the same
# held-out accuracy and validity); NB-101 reconstructs fully within 4 epochs, DARTS is at 96%
# after 12 (53% after 2). NB-201's 14,000 training cells need the small batch to get enough steps.
# Decoder dropout trades reconstruction for validity of prior samples: 0.3, the reference
# implementation's value, costs NB-101 about 2 points of reconstruction after 3 epochs.
GCN_EPOCH_FACTOR = 3
SPACE_DEFAULTS = {
    "nb101": {"epochs": 4, "dropout": 0.1, "batch_size": 256, "lr": 3e-3},
    "nb201": {"epochs": 10, "dropout": 0.3, "batch_size": 32, "lr": 1e-3},
    "darts": {"epochs": 24, "dropout": 0.1, "batch_size": 256, "lr": 3e-3},
}


@dataclass
class PretrainConfig:
    """Everything that determines a pre-training run (``data_dir`` only says where caches are)."""

    space: str
    model: str = "arch2vec"
    epochs: int = 0  # 0 (and < 0 for the floats): the space's default from SPACE_DEFAULTS
    batch_size: int = 0
    lr: float = -1.0
    beta: float = 0.005
    dropout: float = -1.0  # on z before decoding while training; < 0: the space's default
    positional: bool = True  # node index as an input feature (see models.vgae)
    hidden: list[int] = field(default_factory=list)  # []: 4 x 128 (GIN), 2 x 128 (GCN)
    latent: int = 16
    holdout: float = 0.1
    seed: int = 0
    threads: int = 0  # 0: 1 thread below batch 128, else up to 2 (measured; BENCHMARKS.md)
    samples: int = 600_000  # DARTS pool size
    pool_seed: int = 0  # DARTS pool seed
    data_dir: str | None = None

    def __post_init__(self) -> None:
        if self.space not in spaces.SPACES:
            raise ValueError(f"unknown space {self.space!r}; expected one of {list(spaces.SPACES)}")
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; expected one of {list(MODELS)}")
        if not self.hidden:
            self.hidden = [128, 128, 128, 128] if self.model == "arch2vec" else [128, 128]
        defaults = dict(SPACE_DEFAULTS[self.space])
        if self.model != "arch2vec":  # same compute: a GCN epoch costs about a third of a GIN one
            defaults["epochs"] *= GCN_EPOCH_FACTOR
        for name in ("epochs", "batch_size"):
            if getattr(self, name) == 0:
                setattr(self, name, defaults[name])
        for name in ("dropout", "lr"):
            if getattr(self, name) < 0:
                setattr(self, name, defaults[name])
        if self.dropout >= 1:
            raise ValueError(f"dropout must be below 1, got {self.dropout}")
        if self.threads == 0:
            self.threads = 1 if self.batch_size < 128 else min(2, torch.get_num_threads() or 1)
        for name in ("epochs", "batch_size", "latent", "threads"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 < self.holdout < 1:
            raise ValueError(f"holdout must be between 0 and 1, got {self.holdout}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PretrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def identity(self) -> dict[str, Any]:
        """The fields that must match for ``--resume`` (all but epochs and data_dir)."""
        d = asdict(self)
        d.pop("epochs")
        d.pop("data_dir")
        return d

    def load_space(self) -> spaces.SearchSpace:
        return spaces.get(
            self.space, data_dir=self.data_dir, samples=self.samples, seed=self.pool_seed
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
    )


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    buffer = _bytes_io.BytesIO()
    torch.save(state, buffer)
    io.atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint (run `arch2vec pretrain` first)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a damaged file
        raise ValueError(f"{path}: unreadable checkpoint ({type(e).__name__})") from None


def read_config(run_dir: str | Path) -> PretrainConfig:
    path = Path(run_dir) / CONFIG
    if not Path(run_dir).is_dir():
        raise FileNotFoundError(f"{run_dir}: no such run directory")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; {run_dir} is not a pre-training run directory")
    try:
        return PretrainConfig.from_dict(json.loads(path.read_text())["config"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a valid run configuration ({e})") from None


def load_run(run_dir: str | Path) -> tuple[PretrainConfig, spaces.SearchSpace, GraphAutoencoder]:
    """The configuration, space and trained model of a run directory (model in eval mode)."""
    config = read_config(run_dir)
    space = config.load_space()
    model = build_model(config, space)
    model.load_state_dict(load_checkpoint(Path(run_dir))["model"])
    model.eval()
    torch.set_num_threads(config.threads)
    return config, space, model


def pretrain(
    config: PretrainConfig,
    run_dir: str | Path,
    resume: bool = False,
    progress: bool = True,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train (or continue training) a model; returns the final metrics of the run."""
    run_dir = Path(run_dir)
    ckpt_path = run_dir / CHECKPOINT
    state = None
    if resume and ckpt_path.is_file():
        saved = read_config(run_dir)
        if saved.identity() != config.identity():
            diff = sorted(k for k, v in config.identity().items() if saved.identity()[k] != v)
            raise ValueError(f"{run_dir}: cannot resume, the run was made with other {diff}")
        state = load_checkpoint(run_dir)
    elif ckpt_path.is_file() and not resume:
        raise ValueError(f"{run_dir}: already holds a run; pass --resume to continue it")

    torch.set_num_threads(config.threads)
    space = config.load_space()
    cells = space.all()
    train_idx, hold_idx = split(len(cells), config.holdout, config.seed)
    num_ops = len(space.ops)
    train = cell_tensors(cells[train_idx], num_ops)
    held = cells[hold_idx]
    model = build_model(config, space)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    history: list[dict[str, Any]] = []
    start_epoch = 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history = list(state["history"])
        start_epoch = int(state["epoch"])
    io.atomic_write_json(
        run_dir / CONFIG,
        {"config": asdict(config), "arch2vec": __version__, "torch": torch.__version__},
    )

    steps = -(-len(train_idx) // config.batch_size)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=config.epochs * steps,
            initial=start_epoch * steps,
            unit="step",
            desc=f"pretrain {config.model} on {config.space}",
            disable=None,
        )
    model.train()
    for epoch in range(start_epoch, config.epochs):
        t0 = time.perf_counter()
        order = torch.from_numpy(
            np.random.default_rng([config.seed, epoch]).permutation(len(train_idx))
        )
        noise = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
        total = 0.0
        for step in range(steps):
            b = order[step * config.batch_size : (step + 1) * config.batch_size]
            out = model(train["ops"][b], train["adj"][b], generator=noise)
            loss, _ = model.loss(
                *out, train["op_target"][b], train["adj_target"][b], beta=config.beta
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(b)
            if bar is not None:
                bar.update(1)
        seconds = time.perf_counter() - t0
        record = {
            "epoch": epoch + 1,
            "loss": total / len(train_idx),
            "seconds": round(seconds, 2),
            "cells_per_second": round(len(train_idx) / seconds, 1),
            **{f"heldout_{k}": v for k, v in reconstruction(model, held, num_ops).items()},
        }
        model.train()
        history.append(record)
        _save_checkpoint(
            ckpt_path,
            {
                "epoch": epoch + 1,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "history": history,
            },
        )
        io.atomic_write_json(run_dir / METRICS, {"history": history})
        if bar is not None:
            bar.set_postfix(
                loss=f"{record['loss']:.4f}",
                heldout=f"{record['heldout_reconstruction_accuracy']:.4f}",
            )
        if on_epoch is not None:
            on_epoch(record)
    if bar is not None:
        bar.close()
    return history[-1] if history else {}


def embed_cells(model: GraphAutoencoder, cells: Cells, num_ops: int) -> np.ndarray:
    """``(B, d)`` float32 cell embeddings (see :func:`arch2vec.models.vgae.pool_nodes`)."""
    from arch2vec.models.vgae import pool_nodes

    data = cell_tensors(cells, num_ops)
    mu, _ = encode(model, data)
    return pool_nodes(mu, data["ops"]).numpy().astype(np.float32)


def ensure_pretrained(
    config: PretrainConfig,
    run_dir: str | Path,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Train ``config`` into ``run_dir`` unless its checkpoint already has ``config.epochs``
    epochs; a killed or shorter run is resumed. Returns ``run_dir``."""
    run_dir = Path(run_dir)
    if (run_dir / CHECKPOINT).is_file() and load_checkpoint(run_dir)["epoch"] >= config.epochs:
        return run_dir
    if log is not None:
        log(f"pre-training {config.model} on {config.space} ({config.epochs} epochs) -> {run_dir}")
    pretrain(config, run_dir, resume=True, progress=progress)
    return run_dir


def save_embeddings(run_dir: str | Path, out: str | Path | None = None) -> tuple[Path, np.ndarray]:
    """Embed every cell of the run's space and save ``embeddings``, ``index`` and ``hash`` to
    ``out`` (default ``run_dir/embeddings.npz``); returns the path and the embeddings."""
    _, space, model = load_run(run_dir)
    emb = embed_cells(model, space.all(), len(space.ops))
    out = Path(out) if out else Path(run_dir) / "embeddings.npz"
    meta = {"space": space.name, "run_dir": str(run_dir), "arch2vec": __version__}
    io.save_arrays(
        out, meta, embeddings=emb, index=np.arange(len(emb)), hash=space.hashes().astype("S32")
    )
    return out, emb
