"""CIFAR-10 for training DARTS cells: the python-version batches, read safely, as uint8 arrays.

:func:`load_cifar10` reads the CIFAR-10 "python version" folder (``cifar-10-batches-py``:
``data_batch_1`` .. ``data_batch_5`` and ``test_batch``, each a pickled dict with ``b"data"``
``(N, 3072)`` uint8 in channel-major order and ``b"labels"``), read by a restricted unpickler
that refuses anything but those plain types. Anywhere a dataset is expected, an
:class:`ImageData` or a pair ``(images, labels)`` works, the images uint8 as ``(N, 32, 32, 3)``,
``(N, 3, 32, 32)`` or flat ``(N, 3072)`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arch2vec import io

CIFAR10_MEAN = (0.49139968, 0.48215827, 0.44653124)
CIFAR10_STD = (0.24703233, 0.24348505, 0.26158768)
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"


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
    """One batch file: a pickle read by :func:`arch2vec.io.restricted_load`, which allows only
    what the official batches hold (dicts, lists, bytes, numbers and NumPy arrays)."""
    if not file.is_file():
        raise ValueError(f"CIFAR-10 folder {root}: missing {file.name}")
    batch = io.restricted_load(file, io.NUMPY_ARRAY_GLOBALS, encoding="bytes")
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


def cifar10_folder(path: str | Path) -> Path:
    """The CIFAR-10 python folder ``path`` (or the one inside it) with every batch file; a
    one-line ``ValueError`` naming ``path`` when it is not such a folder."""
    root = Path(path).expanduser()
    if (root / CIFAR10_FOLDER).is_dir() and not (root / CIFAR10_TEST).exists():
        root = root / CIFAR10_FOLDER
    if not root.is_dir():
        raise ValueError(
            f"CIFAR-10 folder {root}: not a directory (expected the python version, "
            f"{CIFAR10_FOLDER}/ with data_batch_1..5 and test_batch)"
        )
    missing = [n for n in (*CIFAR10_TRAIN, CIFAR10_TEST) if not (root / n).is_file()]
    if missing:
        raise ValueError(f"CIFAR-10 folder {root}: missing {missing[0]}")
    return root


def load_cifar10(path: str | Path) -> tuple[ImageData, ImageData]:
    """``(train, test)`` from the CIFAR-10 python folder ``path`` (or the folder holding it).

    Raises a one-line ``ValueError`` naming ``path`` when it is not such a folder.
    """
    root = cifar10_folder(path)
    parts = [_read_batch(root / name, root) for name in CIFAR10_TRAIN]
    train = ImageData(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    test = ImageData(*_read_batch(root / CIFAR10_TEST, root))
    return train, test


def data_pair(
    data: str | Path | Sequence | ImageData, what: str
) -> tuple[ImageData, ImageData | None]:
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
