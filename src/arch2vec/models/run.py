"""Pre-training run directories: configuration, atomic per-epoch checkpoints, resume, embeddings.

A run directory holds ``config.json`` (the configuration and package version), ``checkpoint.pt``
(model, optimizer, completed epochs, history; replaced atomically after every epoch) and
``metrics.json`` (per-epoch loss and held-out reconstruction accuracy). A run killed at any point
and continued with ``resume=True`` ends bit-identical to an uninterrupted run
(:mod:`arch2vec.models.train`). ``embeddings.npz`` (:func:`save_embeddings`) holds the embedding
of every cell of the run's space.
"""

from __future__ import annotations

import io as _bytes_io
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from arch2vec import __version__, checks, io, threads
from arch2vec.models.embeddings import Embeddings
from arch2vec.models.metrics import check_prior, table1_metrics
from arch2vec.models.train import (
    PretrainConfig,
    build_model,
    embed_cells,
    split,
    train_epochs,
)
from arch2vec.models.vgae import GraphAutoencoder
from arch2vec.spaces.base import SearchSpace

CONFIG = "config.json"
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.json"
EMBEDDINGS = "embeddings.npz"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    buffer = _bytes_io.BytesIO()
    torch.save(state, buffer)
    io.atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint (pre-train a model there first)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a damaged file
        raise ValueError(f"{path}: unreadable checkpoint ({type(e).__name__})") from None


def load_weights(model: GraphAutoencoder, state: dict[str, Any], run_dir: str | Path) -> None:
    """Load a checkpoint's weights; a one-line error if they do not fit the configuration."""
    try:
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, RuntimeError):
        raise ValueError(
            f"{Path(run_dir) / CHECKPOINT}: its weights do not match {Path(run_dir) / CONFIG} "
            "(was the configuration edited?)"
        ) from None


def read_config(run_dir: str | Path) -> PretrainConfig:
    path = Path(run_dir) / CONFIG
    if not Path(run_dir).is_dir():
        raise FileNotFoundError(f"{run_dir}: no such run directory")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; {run_dir} is not a pre-training run directory")
    try:
        config = json.loads(io.read_text(path))["config"]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a valid run configuration ({e})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: not a valid run configuration (no table of settings)")
    if "strategy" in config:
        raise ValueError(f"{run_dir} is a search experiment, not a pre-training run directory")
    try:
        return PretrainConfig.from_dict(config)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{path}: not a valid run configuration ({e})") from None


def write_config(run_dir: str | Path, config: PretrainConfig, space: SearchSpace) -> None:
    io.atomic_write_json(
        Path(run_dir) / CONFIG,
        {
            "config": asdict(config),
            "space_fingerprint": space.fingerprint(),
            "arch2vec": __version__,
            "torch": torch.__version__,
        },
    )


def check_run_space(run_dir: str | Path, space: SearchSpace) -> None:
    """A one-line error unless ``space`` holds the cells the run in ``run_dir`` was trained on
    (the fingerprint its ``config.json`` records; runs from before fingerprints pass)."""
    try:
        recorded = json.loads(io.read_text(Path(run_dir) / CONFIG)).get("space_fingerprint")
    except (ValueError, OSError, AttributeError):
        return  # read_config has named what is wrong with the file
    if recorded is not None and recorded != space.fingerprint():
        raise ValueError(
            f"{Path(run_dir) / CONFIG}: the run was trained on space {space.name} with "
            f"fingerprint {recorded}, and its configuration now gives {space.describe()}: its "
            "model would embed other cells"
        )


def load_run(run_dir: str | Path) -> tuple[PretrainConfig, SearchSpace, GraphAutoencoder]:
    """The configuration, space and trained model of a run directory (model in eval mode)."""
    config = read_config(run_dir)
    space = config.load_space()
    check_run_space(run_dir, space)
    model = build_model(config, space)
    load_weights(model, load_checkpoint(run_dir), run_dir)
    model.eval()
    return config, space, model


def pretrain(
    config: PretrainConfig,
    run_dir: str | Path,
    resume: bool = False,
    progress: bool = True,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
    space: SearchSpace | None = None,
) -> dict[str, Any]:
    """Train (or, with ``resume=True``, continue) a model into ``run_dir``, checkpointing after
    every epoch; returns the final metrics of the run. ``space``: the space object, if the caller
    has it (default: ``config.load_space()``). The process owns ``run_dir`` meanwhile (a second
    one is refused, naming this one's PID)."""
    with io.DirectoryLock(run_dir, "pre-training run directory"):
        io.remove_stale_temps(run_dir)  # of a killed owner: this process owns the directory
        return _pretrain(config, Path(run_dir), resume, progress, on_epoch, space)


def _pretrain(
    config: PretrainConfig,
    run_dir: Path,
    resume: bool,
    progress: bool,
    on_epoch: Callable[[dict[str, Any]], None] | None,
    space: SearchSpace | None,
) -> dict[str, Any]:
    ckpt_path = run_dir / CHECKPOINT
    state = None
    if resume and ckpt_path.is_file():
        _check_same_run(run_dir, config)
        state = load_checkpoint(run_dir)
        if "optimizer" not in state:
            raise ValueError(f"{run_dir}: holds a saved model, not a run to continue")
    elif ckpt_path.is_file() and not resume:
        raise ValueError(f"{run_dir}: already holds a run; resume it to continue")

    space = space if space is not None else config.load_space()
    if state is not None:
        check_run_space(run_dir, space)
    cells = space.all()
    train_idx, hold_idx = split(len(cells), config.holdout, config.seed)
    model = build_model(config, space)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    history: list[dict[str, Any]] = []
    start_epoch = 0
    if state is not None:
        load_weights(model, state, run_dir)
        try:
            optimizer.load_state_dict(state["optimizer"])
            history = list(state["history"])
            start_epoch = int(state["epoch"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{ckpt_path}: not a checkpoint of this run") from None
    write_config(run_dir, config, space)

    def checkpoint(record: dict[str, Any]) -> None:
        history.append(record)
        save_checkpoint(
            ckpt_path,
            {
                "epoch": record["epoch"],
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "history": history,
            },
        )
        io.atomic_write_json(run_dir / METRICS, {"history": history})
        if on_epoch is not None:
            on_epoch(record)

    train_epochs(
        config,
        model,
        optimizer,
        cells[train_idx],
        cells[hold_idx],
        len(space.ops),
        start_epoch=start_epoch,
        progress=progress,
        on_epoch=checkpoint,
    )
    return history[-1] if history else {}


def _check_same_run(run_dir: Path, config: PretrainConfig) -> None:
    """A one-line error unless the run in ``run_dir`` was made with ``config`` (all but its
    epochs): a finished run of another configuration is not this one's result."""
    saved_config = read_config(run_dir)
    saved = saved_config.identity()
    diff = sorted(k for k, v in config.identity().items() if saved.get(k) != v)
    if diff:
        raise ValueError(f"{run_dir}: cannot resume, the run was made with other {diff}")
    if config.schedule == "cosine" and saved_config.epochs < config.epochs:
        raise ValueError(
            f"{run_dir}: a run of {saved_config.epochs} epochs with the cosine schedule cannot "
            f"go on as one of {config.epochs} (its learning rate follows the total): give "
            f"epochs={saved_config.epochs}, or another directory"
        )


def ensure_pretrained(
    config: PretrainConfig,
    run_dir: str | Path,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Train ``config`` into ``run_dir`` unless its checkpoint already has ``config.epochs``
    epochs; a killed or shorter run is resumed, a run of another configuration or of more epochs
    is refused. Returns ``run_dir``."""
    run_dir = Path(run_dir)
    if (run_dir / CHECKPOINT).is_file():
        _check_same_run(run_dir, config)
        done = load_checkpoint(run_dir)["epoch"]
        if done > config.epochs:
            raise ValueError(
                f"{run_dir}: holds a run of {done} epochs, more than the {config.epochs} asked "
                "for; its model is not this configuration's (use another directory)"
            )
        if done == config.epochs:
            return run_dir
    if log is not None:
        log(f"pre-training {config.model} on {config.space} ({config.epochs} epochs) -> {run_dir}")
    pretrain(config, run_dir, resume=True, progress=progress)
    return run_dir


def evaluate_run(
    run_dir: str | Path, samples: int = 10_000, seed: int = 0, prior: str = "diagonal"
) -> dict[str, Any]:
    """Table 1's metrics (:func:`~arch2vec.models.metrics.table1_metrics`) of the model in
    ``run_dir``: reconstruction of its held-out cells, validity and uniqueness of prior samples
    (the paper's definitions and ours), drawn as ``prior`` says
    (:func:`~arch2vec.models.metrics.prior_samples`: ``diagonal``, the paper's, or ``full``)."""
    samples = checks.integer("samples", samples, 1, checks.MAX_PRIOR_SAMPLES)
    seed = checks.seed(seed)
    prior = check_prior(prior)
    start = time.perf_counter()
    config, space, model = load_run(run_dir)
    cells = space.all()
    train_idx, hold_idx = split(len(cells), config.holdout, config.seed)
    result: dict[str, Any] = {"space": config.space, "model": config.model}
    with threads.limited(config.threads):
        metrics = table1_metrics(
            model, space, cells[train_idx], cells[hold_idx], samples, seed, prior
        )
    result.update(metrics)
    result.update(
        {
            "heldout_cells": len(hold_idx),
            "seed": seed,
            "seconds": round(time.perf_counter() - start, 2),
        }
    )
    return result


def save_embeddings(
    run_dir: str | Path, out: str | Path | None = None, overwrite: bool = False
) -> tuple[Path, np.ndarray]:
    """Embed every cell of the run's space and save ``embeddings``, ``index``, ``hash`` and
    ``native`` to ``out`` (default ``run_dir/embeddings.npz``); returns the path and the
    embeddings. A file ``out`` that exists is kept unless ``overwrite``."""
    if out is not None and Path(out).exists() and not overwrite:
        raise ValueError(f"{out}: already exists (overwrite=True replaces it)")
    config, space, model = load_run(run_dir)
    with threads.limited(config.threads):
        vectors = embed_cells(model, space.all(), len(space.ops))
    emb = Embeddings.of_space(space, vectors)
    out = Path(out) if out else Path(run_dir) / EMBEDDINGS
    emb.save(out, run_dir=str(run_dir))
    return out, emb.vectors


def load_embeddings(path: str | os.PathLike[str], data_dir: str | Path | None = None) -> Embeddings:
    """Embeddings from a pre-training run directory (its ``embeddings.npz``, computed and saved
    there if missing) or from an ``.npz`` written by ``arch2vec embed``."""
    path = Path(path)
    if path.is_dir():
        npz = path / EMBEDDINGS
        if not npz.is_file():
            read_config(path)  # a one-line error if it is no run directory
            save_embeddings(path, npz)
        return Embeddings.read(npz)
    if not path.is_file():
        raise ValueError(f"{path}: no such pre-training run or embeddings file")
    return Embeddings.read(path)


def space_of_run(path: str | Path) -> str:
    """The name of the space of a pre-training run directory or an embeddings ``.npz``."""
    path = Path(path)
    if path.is_dir():
        return read_config(path).space
    return load_embeddings(path).space
