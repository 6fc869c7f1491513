"""Train DARTS cells on CIFAR-10: the search reward of the arch2vec paper and the final evaluation.

**Data** (:mod:`arch2vec.evaluators.darts.data`): a CIFAR-10 folder, or arrays. Images stay
uint8 on the training device; each batch is augmented there.

**Augmentation** (training batches only): zero-pad 4 pixels and take a random 32x32 crop, flip
horizontally with probability 1/2, normalise with the CIFAR-10 channel means and standard
deviations, and with ``cutout`` zero a random 16x16 square (its centre uniform over the image,
clipped at the borders), as the DARTS training pipeline does. All random draws (shuffling, crops,
flips, cutout) come from a NumPy generator seeded by ``seed``; weights are initialised and drop
path drawn from torch's generator seeded by ``seed`` inside :func:`torch.random.fork_rng`, so the
caller's random state is untouched. On the CPU a run is deterministic for a seed (at a fixed
number of threads); GPU kernels may not be.

**Training** (:func:`train_cell`): the network of
:class:`~arch2vec.evaluators.darts.network.DartsNetwork`,
SGD with momentum 0.9 and weight decay 3e-4, learning rate cosine-annealed per epoch from ``lr``
to ``lr_min`` over ``epochs``, gradient norm clipped at 5, cross-entropy plus
``auxiliary_weight`` x the auxiliary head's cross-entropy (no auxiliary head when the weight is
0), drop-path probability raised linearly ``drop_path * epoch / epochs``. The reward is the mean
validation accuracy (percent) of the last ``last`` (5) epochs, the arch2vec paper's DARTS reward
(fewer epochs: the mean over all of them).

:func:`final_evaluation` is the DARTS paper's final evaluation: 600 epochs on all 50,000 training
images, test accuracy on the 10,000 test images.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from arch2vec import checks
from arch2vec.evaluators.darts.data import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    ImageData,
    as_image_data,
    data_pair,
)
from arch2vec.evaluators.darts.network import DartsNetwork, as_genotype, count_parameters

PAD = 4

Log = Callable[[dict[str, Any]], None]


# --------------------------------------------------------------------------- augmentation


def _normalizer(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    mean = torch.tensor(CIFAR10_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, device=device).view(1, 3, 1, 1)
    return mean, std


def _augment(
    x: torch.Tensor,
    rng: np.random.Generator,
    mean: torch.Tensor,
    std: torch.Tensor,
    cutout: int,
) -> torch.Tensor:
    """Padded random crop + horizontal flip + normalise (+ cutout) of a uint8 batch."""
    b, c, h, w = x.shape
    dev = x.device
    padded = F.pad(x.float() / 255.0, (PAD, PAD, PAD, PAD))
    dy = torch.as_tensor(rng.integers(0, 2 * PAD + 1, b), device=dev)
    dx = torch.as_tensor(rng.integers(0, 2 * PAD + 1, b), device=dev)
    flip = torch.as_tensor(rng.random(b) < 0.5, device=dev)
    ar_h, ar_w = torch.arange(h, device=dev), torch.arange(w, device=dev)
    rows = dy[:, None] + ar_h
    cols = dx[:, None] + torch.where(flip[:, None], w - 1 - ar_w, ar_w)
    out = padded[
        torch.arange(b, device=dev)[:, None, None, None],
        torch.arange(c, device=dev)[None, :, None, None],
        rows[:, None, :, None],
        cols[:, None, None, :],
    ]
    out = (out - mean) / std
    if cutout > 0:
        cy = torch.as_tensor(rng.integers(0, h, b), device=dev)[:, None]
        cx = torch.as_tensor(rng.integers(0, w, b), device=dev)[:, None]
        in_y = (ar_h >= cy - cutout // 2) & (ar_h < cy + cutout // 2)  # (b, h)
        in_x = (ar_w >= cx - cutout // 2) & (ar_w < cx + cutout // 2)  # (b, w)
        hole = in_y[:, None, :, None] & in_x[:, None, None, :]
        out = out.masked_fill(hole, 0.0)
    return out


# --------------------------------------------------------------------------- training


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: the GPU when CUDA is available, else the CPU; otherwise ``torch.device``."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@torch.no_grad()
def _accuracy(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    mean: torch.Tensor,
    std: torch.Tensor,
    batch_size: int,
) -> float:
    model.eval()
    correct = 0
    for start in range(0, len(labels), batch_size):
        x = (images[start : start + batch_size].float() / 255.0 - mean) / std
        logits, _ = model(x)
        correct += int((logits.argmax(dim=1) == labels[start : start + batch_size]).sum())
    return 100.0 * correct / max(len(labels), 1)


MAX_LAYERS = 1000
MAX_CHANNELS = 4096


TRAINING_RANGES: dict[str, tuple[type, float, float]] = {
    "epochs": (int, 1, checks.MAX_EPOCHS),
    "layers": (int, 3, MAX_LAYERS),  # two reductions and a normal cell
    "channels": (int, 1, MAX_CHANNELS),
    "batch_size": (int, 2, checks.MAX_BATCH),
    "lr": (float, 0, 10),
    "auxiliary_weight": (float, 0, 100),
    "drop_path": (float, 0, 1),
    "last": (int, 1, checks.MAX_EPOCHS),
    "seed": (int, 0, checks.SEED_MAX),
}


def check_training(**options: Any) -> None:
    """The ranges of the training options among ``options`` (others are ignored): one-line
    errors naming the option and the value. ``lr`` excludes 0, ``drop_path`` 1."""
    for name, (kind, lo, hi) in TRAINING_RANGES.items():
        if name not in options:
            continue
        if kind is int:
            checks.integer(name, options[name], int(lo), int(hi))
        else:
            checks.number(
                name, options[name], lo, hi, lo_open=name == "lr", hi_open=name == "drop_path"
            )


def train_cell(
    genotype: str | np.ndarray,
    train_data: ImageData | Sequence,
    valid_data: ImageData | Sequence | None = None,
    *,
    test_data: ImageData | Sequence | None = None,
    epochs: int = 50,
    layers: int = 20,
    channels: int = 36,
    batch_size: int = 96,
    lr: float = 0.025,
    lr_min: float = 0.0,
    momentum: float = 0.9,
    weight_decay: float = 3e-4,
    grad_clip: float = 5.0,
    cutout: bool = True,
    cutout_length: int = 16,
    auxiliary_weight: float = 0.4,
    drop_path: float = 0.2,
    last: int = 5,
    num_classes: int = 10,
    reduce_genotype: str | np.ndarray | None = None,
    seed: int = 0,
    device: str | torch.device = "auto",
    eval_batch_size: int = 500,
    log: Log | None = None,
) -> dict[str, Any]:
    """Train the DARTS network of ``genotype`` and return its record (see the module docstring).

    Validation accuracy (percent) is measured after every epoch when ``valid_data`` is given;
    test accuracy in the last ``last`` epochs when ``test_data`` is given. ``log`` (optional)
    receives one dict per epoch: ``epoch`` (1-based), ``epochs``, ``lr``, ``train_loss``,
    ``train_accuracy``, ``valid_accuracy`` / ``test_accuracy`` (when measured), ``seconds``.

    Returns a dict: ``genotype`` / ``reduce_genotype`` (text), ``params`` (without the auxiliary
    head) and ``params_auxiliary`` (with it), per-epoch lists ``train_loss``,
    ``train_accuracy``, ``valid_accuracy``; ``reward`` (mean validation accuracy of the last
    ``last`` epochs, NaN without validation data); ``test_epochs`` / ``test_accuracy`` (lists)
    and ``final_test_accuracy`` (last epoch's, or None); ``wall_time`` (seconds, this call);
    ``device`` and the configuration.
    """
    start = time.perf_counter()
    check_training(**locals())
    checks.integer("eval_batch_size", eval_batch_size, 1, checks.MAX_BATCH)
    for name, value in (("lr_min", lr_min), ("momentum", momentum), ("weight_decay", weight_decay)):
        checks.number(name, value, 0, 10)
    checks.number("grad_clip", grad_clip, 0, 1e6, lo_open=True)
    checks.integer("cutout_length", cutout_length, 0, 1024)
    checks.integer("num_classes", num_classes, 2, 100_000)
    normal = as_genotype(genotype)
    train = as_image_data(train_data, "training set")
    valid = None if valid_data is None else as_image_data(valid_data, "validation set")
    test = None if test_data is None else as_image_data(test_data, "test set")
    for what, part in (("training", train), ("validation", valid), ("test", test)):
        if part is not None and len(part) and part.labels.max() >= num_classes:
            raise ValueError(f"train_cell: {what} labels must be below num_classes={num_classes}")
    if len(train) < 2:
        raise ValueError(f"train_cell: need at least 2 training images, got {len(train)}")
    dev = resolve_device(device)
    rng = np.random.default_rng(seed)

    fork = [dev] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=fork):
        torch.default_generator.manual_seed(seed)
        if dev.type == "cuda":
            with torch.cuda.device(dev):
                torch.cuda.manual_seed(seed)
        model = DartsNetwork(
            normal,
            layers=layers,
            channels=channels,
            num_classes=num_classes,
            auxiliary=auxiliary_weight > 0,
            reduce_genotype=reduce_genotype,
        ).to(dev)
        record: dict[str, Any] = {
            "genotype": model.genotype,
            "reduce_genotype": model.reduce_genotype,
            "params": count_parameters(model),
            "params_auxiliary": count_parameters(model, auxiliary=True),
            "epochs": epochs,
            "layers": layers,
            "channels": channels,
            "batch_size": batch_size,
            "seed": seed,
            "device": str(dev),
            "train_images": len(train),
            "valid_images": 0 if valid is None else len(valid),
        }
        optimizer = torch.optim.SGD(
            model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay
        )
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs, eta_min=lr_min)
        criterion = nn.CrossEntropyLoss()
        mean, std = _normalizer(dev)

        def to_device(part: ImageData | None) -> tuple[torch.Tensor, torch.Tensor] | None:
            if part is None:
                return None
            return torch.from_numpy(part.images).to(dev), torch.from_numpy(part.labels).to(dev)

        train_t = to_device(train)
        assert train_t is not None  # train is given
        x_train, y_train = train_t
        valid_t, test_t = to_device(valid), to_device(test)
        hist: dict[str, list] = {
            k: []
            for k in ("train_loss", "train_accuracy", "valid_accuracy", "test_epochs", "test_acc")
        }
        n = len(train)
        for epoch in range(epochs):
            t0 = time.perf_counter()
            model.train()
            model.drop_path = drop_path * epoch / epochs
            current_lr = optimizer.param_groups[0]["lr"]
            order = torch.as_tensor(rng.permutation(n), device=dev)
            # summed on the device: one host sync per epoch, not per batch
            loss_sum = torch.zeros((), device=dev)
            correct = torch.zeros((), device=dev, dtype=torch.long)
            seen = 0
            for b in range(0, n, batch_size):
                idx = order[b : b + batch_size]
                if len(idx) < 2:  # batch norm needs two samples (the auxiliary head is 1x1)
                    continue
                x = _augment(x_train[idx], rng, mean, std, cutout_length if cutout else 0)
                y = y_train[idx]
                logits, aux = model(x)
                loss = criterion(logits, y)
                if aux is not None:
                    loss = loss + auxiliary_weight * criterion(aux, y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if grad_clip > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                optimizer.step()
                loss_sum += loss.detach() * len(idx)
                correct += (logits.detach().argmax(dim=1) == y).sum()
                seen += len(idx)
            scheduler.step()
            hist["train_loss"].append(float(loss_sum) / seen)
            hist["train_accuracy"].append(100.0 * int(correct) / seen)
            entry: dict[str, Any] = {
                "epoch": epoch + 1,
                "epochs": epochs,
                "lr": current_lr,
                "train_loss": hist["train_loss"][-1],
                "train_accuracy": hist["train_accuracy"][-1],
            }
            if valid_t is not None:
                acc = _accuracy(model, *valid_t, mean, std, eval_batch_size)
                hist["valid_accuracy"].append(acc)
                entry["valid_accuracy"] = acc
            if test_t is not None and epoch >= epochs - last:
                acc = _accuracy(model, *test_t, mean, std, eval_batch_size)
                hist["test_epochs"].append(epoch + 1)
                hist["test_acc"].append(acc)
                entry["test_accuracy"] = acc
            entry["seconds"] = time.perf_counter() - t0
            if log is not None:
                log(entry)

    tail = hist["valid_accuracy"][-last:]
    record.update(
        train_loss=hist["train_loss"],
        train_accuracy=hist["train_accuracy"],
        valid_accuracy=hist["valid_accuracy"],
        reward=float(np.mean(tail)) if tail else math.nan,
        last=last,
        test_epochs=hist["test_epochs"],
        test_accuracy=hist["test_acc"],
        final_test_accuracy=hist["test_acc"][-1] if hist["test_epochs"][-1:] == [epochs] else None,
        wall_time=time.perf_counter() - start,
    )
    return record


def final_evaluation(
    genotype: str | np.ndarray,
    data: str | Path | Sequence,
    epochs: int = 600,
    layers: int = 20,
    channels: int = 36,
    batch_size: int = 96,
    lr: float = 0.025,
    cutout: bool = True,
    auxiliary_weight: float = 0.4,
    drop_path: float = 0.2,
    *,
    last: int = 1,
    reduce_genotype: str | np.ndarray | None = None,
    seed: int = 0,
    device: str | torch.device = "auto",
    log: Log | None = None,
) -> dict[str, Any]:
    """The DARTS paper's final evaluation: train on the whole training set, report test accuracy.

    ``data`` is a CIFAR-10 folder or a pair ``(train, test)`` of datasets. Test accuracy is
    measured in the last ``last`` epochs; the result is :func:`train_cell`'s record plus
    ``test_accuracy_final`` and ``test_error`` (percent, of the last epoch).
    """
    check_training(**locals())  # before any data is read
    genotype = as_genotype(genotype)  # a malformed genotype fails before any data is read
    train, test = data_pair(data, "final_evaluation")
    if test is None:
        raise ValueError("final_evaluation: data has no test set (pass a folder or (train, test))")
    record = train_cell(
        genotype,
        train,
        None,
        test_data=test,
        epochs=epochs,
        layers=layers,
        channels=channels,
        batch_size=batch_size,
        lr=lr,
        cutout=cutout,
        auxiliary_weight=auxiliary_weight,
        drop_path=drop_path,
        last=last,
        reduce_genotype=reduce_genotype,
        seed=seed,
        device=device,
        log=log,
    )
    acc = record["final_test_accuracy"]
    record["test_accuracy_final"] = acc
    record["test_error"] = 100.0 - acc
    return record
