"""Train DARTS cells on CIFAR-10: the search reward of the arch2vec paper and the final evaluation.

**Data.** :func:`load_cifar10` reads the CIFAR-10 "python version" folder
(``cifar-10-batches-py``: pickled dicts ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``,
each with ``b"data"`` ``(N, 3072)`` uint8 in channel-major order and ``b"labels"``). Only load
files you trust: they are Python pickles. Anywhere a dataset is expected, an :class:`ImageData`
or a pair ``(images, labels)`` works, the images uint8 as ``(N, 32, 32, 3)``, ``(N, 3, 32, 32)``
or flat ``(N, 3072)`` rows. Images stay uint8 on the training device; each batch is augmented
there.

**Augmentation** (training batches only): zero-pad 4 pixels and take a random 32x32 crop, flip
horizontally with probability 1/2, normalise with the CIFAR-10 channel means and standard
deviations, and with ``cutout`` zero a random 16x16 square (its centre uniform over the image,
clipped at the borders), as the DARTS training pipeline does. All random draws (shuffling, crops,
flips, cutout) come from a NumPy generator seeded by ``seed``; weights are initialised and drop
path drawn from torch's generator seeded by ``seed`` inside :func:`torch.random.fork_rng`, so the
caller's random state is untouched. On the CPU a run is deterministic for a seed (at a fixed
number of threads); GPU kernels may not be.

**Training** (:func:`train_cell`): the network of :class:`~arch2vec.models.darts_net.DartsNetwork`,
SGD with momentum 0.9 and weight decay 3e-4, learning rate cosine-annealed per epoch from ``lr``
to ``lr_min`` over ``epochs``, gradient norm clipped at 5, cross-entropy plus
``auxiliary_weight`` x the auxiliary head's cross-entropy (no auxiliary head when the weight is
0), drop-path probability raised linearly ``drop_path * epoch / epochs``. The reward is the mean
validation accuracy (percent) of the last ``last`` (5) epochs, the arch2vec paper's DARTS reward
(fewer epochs: the mean over all of them).

**Search protocol.** :class:`TrainingEvaluator` defaults to the arch2vec paper's DARTS setting
(the authors' public training script): 50 epochs of the full-size network (20 layers, 36 initial
channels, batch 96, lr 0.025, cutout, auxiliary weight 0.4, drop path 0.2), trained on the first
90% of the CIFAR-10 training set and validated on the last 10% (``train_portion=0.5`` gives the
DARTS search split into halves). :func:`final_evaluation` is the DARTS paper's final evaluation:
600 epochs on all 50,000 training images, test accuracy on the 10,000 test images.
"""

from __future__ import annotations

import math
import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from arch2vec.benchmarks.evaluator import Evaluation, Evaluator
from arch2vec.models.darts_net import DartsNetwork, as_genotype, count_parameters
from arch2vec.spaces.cells import Cells
from arch2vec.spaces.darts import cells_to_genotypes, format_genotype

CIFAR10_MEAN = (0.49139968, 0.48215827, 0.44653124)
CIFAR10_STD = (0.24703233, 0.24348505, 0.26158768)
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"
PAD = 4

Log = Callable[[dict[str, Any]], None]


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, eq=False)
class ImageData:
    """Images ``(N, 3, H, W)`` uint8 and labels ``(N,)`` int64."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: slice | np.ndarray) -> ImageData:
        return ImageData(self.images[index], self.labels[index])


def as_image_data(data: ImageData | Sequence, what: str = "data") -> ImageData:
    """An :class:`ImageData` from one or a pair ``(images, labels)``; one-line ``ValueError``.

    Images: uint8 ``(N, 3, H, W)``, ``(N, H, W, 3)`` or flat CIFAR rows ``(N, 3072)``.
    """
    if isinstance(data, ImageData):
        return data
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ValueError(f"{what}: expected ImageData or a pair (images, labels)")
    images, labels = np.asarray(data[0]), np.asarray(data[1])
    if images.dtype != np.uint8:
        raise ValueError(f"{what}: images must be uint8 (0..255), got dtype {images.dtype}")
    if images.ndim == 2 and images.shape[1] == 3 * 32 * 32:
        images = images.reshape(-1, 3, 32, 32)
    elif images.ndim == 4 and images.shape[1] != 3 and images.shape[3] == 3:
        images = images.transpose(0, 3, 1, 2)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(
            f"{what}: images must be (N, 3, H, W), (N, H, W, 3) or (N, 3072), got {images.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(
            f"{what}: expected {len(images)} labels (one per image), got shape {labels.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer) or (len(labels) and labels.min() < 0):
        raise ValueError(f"{what}: labels must be non-negative integers")
    return ImageData(np.ascontiguousarray(images), labels.astype(np.int64))


def _read_batch(file: Path, root: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(file, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
    except FileNotFoundError:
        raise ValueError(f"CIFAR-10 folder {root}: missing {file.name}") from None
    except Exception as exc:  # corrupt or foreign file: unpickling can raise almost anything
        raise ValueError(f"CIFAR-10 folder {root}: cannot read {file.name} ({exc})") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise ValueError(f"CIFAR-10 folder {root}: {file.name} has no b'data' / b'labels'")
    data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(
            f"CIFAR-10 folder {root}: {file.name} data is {data.dtype} {data.shape}, "
            "expected uint8 (N, 3072)"
        )
    if labels.shape != (len(data),):
        raise ValueError(f"CIFAR-10 folder {root}: {file.name} has {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def load_cifar10(path: str | Path) -> tuple[ImageData, ImageData]:
    """``(train, test)`` from the CIFAR-10 python folder ``path`` (or the folder holding it).

    Raises a one-line ``ValueError`` naming ``path`` when it is not such a folder.
    """
    root = Path(path).expanduser()
    if (root / CIFAR10_FOLDER).is_dir() and not (root / CIFAR10_TEST).exists():
        root = root / CIFAR10_FOLDER
    if not root.is_dir():
        raise ValueError(
            f"CIFAR-10 folder {root}: not a directory (expected the python version, "
            f"{CIFAR10_FOLDER}/ with data_batch_1..5 and test_batch)"
        )
    parts = [_read_batch(root / name, root) for name in CIFAR10_TRAIN]
    train = ImageData(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    test = ImageData(*_read_batch(root / CIFAR10_TEST, root))
    return train, test


def _data_pair(data: str | Path | Sequence, what: str) -> tuple[ImageData, ImageData | None]:
    """``(train, test)`` from a CIFAR-10 folder, a pair of datasets, or one training set."""
    if isinstance(data, (str, Path)):
        return load_cifar10(data)
    if isinstance(data, ImageData):
        return data, None
    if isinstance(data, (tuple, list)) and len(data) == 2:
        first = data[0]
        if isinstance(first, ImageData) or (isinstance(first, (tuple, list)) and len(first) == 2):
            test = None if data[1] is None else as_image_data(data[1], f"{what} test set")
            return as_image_data(first, f"{what} training set"), test
        return as_image_data(data, f"{what} training set"), None
    raise ValueError(
        f"{what}: expected a CIFAR-10 folder, (train, test) datasets or (images, labels)"
    )


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
    if epochs < 1 or batch_size < 2 or last < 1 or eval_batch_size < 1:
        raise ValueError(
            "train_cell: epochs and last must be >= 1, batch_size >= 2, eval_batch_size >= 1"
        )
    if lr <= 0 or not 0.0 <= drop_path < 1.0 or auxiliary_weight < 0:
        raise ValueError("train_cell: need lr > 0, 0 <= drop_path < 1, auxiliary_weight >= 0")
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

        x_train, y_train = to_device(train)
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
    train, test = _data_pair(data, "final_evaluation")
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


# --------------------------------------------------------------------------- evaluator


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class TrainingEvaluator(Evaluator):
    """Evaluates DARTS cells by training them (:func:`train_cell`); see the module docstring.

    Data: ``data`` (a CIFAR-10 folder, ``(train, test)`` datasets or one training set), whose
    training set is split unshuffled into its first ``train_portion`` for training and the rest
    for validation; or an explicit ``train_data`` and ``valid_data``. Data load on first use.

    Per cell: reward = mean validation accuracy (percent) of the last ``last`` epochs, cost = the
    measured wall-clock seconds. A cell whose conversion or training raises gets reward NaN and
    the exception as its ``error``; the other cells of the batch are still trained. ``info`` holds
    the genotype, parameter count, per-epoch validation accuracies and, with ``test=True`` and a
    test set, the last epoch's test accuracy (``test_accuracy``).
    """

    name = "train"
    space = "darts"

    def __init__(
        self,
        data: str | Path | Sequence | ImageData | None = None,
        *,
        train_data: ImageData | Sequence | None = None,
        valid_data: ImageData | Sequence | None = None,
        test_data: ImageData | Sequence | None = None,
        train_portion: float = 0.9,
        test: bool = False,
        epochs: int = 50,
        layers: int = 20,
        channels: int = 36,
        batch_size: int = 96,
        lr: float = 0.025,
        cutout: bool = True,
        auxiliary_weight: float = 0.4,
        drop_path: float = 0.2,
        last: int = 5,
        seed: int = 0,
        device: str | torch.device = "auto",
        log: Log | None = None,
    ) -> None:
        if (data is None) == (train_data is None):
            raise ValueError("TrainingEvaluator: pass either data or train_data (and valid_data)")
        if train_data is not None and valid_data is None:
            raise ValueError("TrainingEvaluator: train_data needs valid_data")
        if not 0.0 < train_portion < 1.0:
            raise ValueError(
                f"TrainingEvaluator: train_portion must be in (0, 1), got {train_portion}"
            )
        self.data = data
        self._given = (train_data, valid_data, test_data)
        self._splits: tuple[ImageData, ImageData, ImageData | None] | None = None
        self.train_portion = float(train_portion)
        self.test = bool(test)
        self.config: dict[str, Any] = {
            "epochs": epochs,
            "layers": layers,
            "channels": channels,
            "batch_size": batch_size,
            "lr": lr,
            "cutout": cutout,
            "auxiliary_weight": auxiliary_weight,
            "drop_path": drop_path,
            "last": last,
            "seed": seed,
            "device": device,
        }
        self.log = log

    def splits(self) -> tuple[ImageData, ImageData, ImageData | None]:
        """``(train, valid, test)`` (loaded and split on first call; test may be None)."""
        if self._splits is None:
            if self.data is not None:
                full, test = _data_pair(self.data, "TrainingEvaluator")
                cut = int(math.floor(self.train_portion * len(full)))
                if not 0 < cut < len(full):
                    raise ValueError(
                        f"TrainingEvaluator: {len(full)} images are too few to split "
                        f"at train_portion={self.train_portion}"
                    )
                self._splits = (full.subset(slice(0, cut)), full.subset(slice(cut, None)), test)
            else:
                tr, va, te = self._given
                self._splits = (
                    as_image_data(tr, "training set"),
                    as_image_data(va, "validation set"),
                    None if te is None else as_image_data(te, "test set"),
                )
        return self._splits

    def _items(self, cells: Cells | np.ndarray | Sequence) -> list[Callable[[], np.ndarray]]:
        """One deferred genotype conversion per cell, so a bad cell fails alone."""
        if isinstance(cells, Cells):
            if cells.space not in ("", self.space):
                raise ValueError(f"TrainingEvaluator: cells of space {cells.space!r}, not darts")
            return [
                (lambda i=i: cells_to_genotypes(Cells(cells.adjacency[i], cells.ops[i]))[0])
                for i in range(len(cells))
            ]
        if isinstance(cells, np.ndarray) and cells.ndim == 4:
            return [(lambda g=g: as_genotype(g)) for g in cells]
        if isinstance(cells, (str, np.ndarray)):
            return [lambda: as_genotype(cells)]
        return [(lambda g=g: as_genotype(g)) for g in cells]

    def evaluate(self, cells: Cells | np.ndarray | Sequence) -> Evaluation:
        """Train each cell: DAG ``Cells``, ``(B, 4, 2, 2)`` genotypes or a list of genotypes."""
        items = self._items(cells)
        train, valid, test = self.splits()
        use_test = test if self.test else None
        n = len(items)
        reward = np.full(n, np.nan)
        cost = np.zeros(n)
        info: list[dict[str, Any]] = [{} for _ in range(n)]
        error: list[str | None] = [None] * n
        for i, item in enumerate(items):
            t0 = time.perf_counter()
            log = None
            if self.log is not None:

                def log(entry: dict[str, Any], i: int = i) -> None:
                    self.log({"cell": i, **entry})

            try:
                g = item()
                info[i]["genotype"] = format_genotype(g)
                rec = train_cell(g, train, valid, test_data=use_test, log=log, **self.config)
            except Exception as exc:  # a failed cell is recorded, the batch goes on
                error[i] = _one_line(exc)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
            else:
                reward[i] = rec["reward"]
                info[i].update(
                    params=rec["params"],
                    valid_accuracy=rec["valid_accuracy"],
                    train_loss=rec["train_loss"][-1],
                    wall_time=rec["wall_time"],
                )
                if rec["final_test_accuracy"] is not None:
                    info[i]["test_accuracy"] = rec["final_test_accuracy"]
                if not math.isfinite(reward[i]):
                    error[i] = "training produced no finite validation accuracy"
            cost[i] = time.perf_counter() - t0
        return Evaluation(reward, cost, info, error)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update({k: str(v) if k == "device" else v for k, v in self.config.items()})
        out["data"] = str(self.data) if isinstance(self.data, (str, Path)) else "arrays"
        out["train_portion"] = self.train_portion if self.data is not None else None
        out["reward"] = f"mean validation accuracy of the last {self.config['last']} epochs"
        return out
