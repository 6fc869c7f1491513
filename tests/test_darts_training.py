"""DARTS network from a genotype, CIFAR-10 loading, cell training and the training evaluator."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

from arch2vec.evaluators.base import Evaluator
from arch2vec.evaluators.darts.data import ImageData, as_image_data, load_cifar10
from arch2vec.evaluators.darts.evaluator import TrainingEvaluator
from arch2vec.evaluators.darts.network import (
    DARTS_V2,
    DARTS_V2_REDUCE,
    DartsNetwork,
    as_genotype,
    count_parameters,
    make_op,
    reduction_layers,
)
from arch2vec.evaluators.darts.trainer import final_evaluation, train_cell
from arch2vec.spaces.cells import Cells
from arch2vec.spaces.darts import (
    GENOTYPE_OPS,
    format_genotype,
    genotypes_to_cells,
    sample_genotypes,
)

torch.set_num_threads(1)

SMALL = (
    "[('sep_conv_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('sep_conv_5x5', 0), "
    "('dil_conv_3x3', 3), ('avg_pool_3x3', 1), ('dil_conv_5x5', 4), ('skip_connect', 1)]"
)
TINY = {"epochs": 1, "layers": 3, "channels": 4, "batch_size": 16, "device": "cpu"}


def synthetic(n: int, seed: int, channels_last: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    if not channels_last:
        images = images.transpose(0, 3, 1, 2).copy()
    return images, rng.integers(0, 10, size=n)


@pytest.fixture(scope="module")
def data() -> tuple[ImageData, ImageData]:
    return as_image_data(synthetic(48, 0)), as_image_data(synthetic(32, 1, channels_last=False))


# --------------------------------------------------------------------------- network


def test_output_shape_and_parameters_grow_with_channels():
    x = torch.randn(2, 3, 32, 32)
    counts = []
    for channels in (4, 8):
        net = DartsNetwork(SMALL, layers=3, channels=channels, num_classes=7).eval()
        logits, aux = net(x)
        assert logits.shape == (2, 7) and aux is None
        counts.append(count_parameters(net))
    assert counts[0] < counts[1]


def test_reduction_cells_halve_spatial_size_and_double_channels():
    assert reduction_layers(8) == (2, 5)
    assert reduction_layers(20) == (6, 13)
    net = DartsNetwork(SMALL, layers=8, channels=4).eval()
    with torch.no_grad():
        feats = net.features(torch.randn(2, 3, 32, 32))
    shapes = [tuple(f.shape[1:]) for f in feats]
    c = 4 * 4  # four intermediate nodes concatenated
    assert shapes == [(c, 32, 32)] * 2 + [(2 * c, 16, 16)] * 3 + [(4 * c, 8, 8)] * 3
    assert [cell.reduction for cell in net.cells] == [i in (2, 5) for i in range(8)]


@pytest.mark.parametrize("name", GENOTYPE_OPS)
@pytest.mark.parametrize("stride", [1, 2])
def test_every_op_at_stride_1_and_2(name, stride):
    op = make_op(name, 6, stride)
    x = torch.randn(2, 6, 9, 10, requires_grad=True)  # odd sizes too
    out = op(x)
    assert out.shape == (2, 6, 9 if stride == 1 else 5, 10 if stride == 1 else 5)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_auxiliary_head_and_drop_path():
    net = DartsNetwork(SMALL, layers=3, channels=4, auxiliary=True, drop_path=0.3)
    x = torch.randn(3, 3, 32, 32)
    logits, aux = net.train()(x)
    assert logits.shape == aux.shape == (3, 10)
    assert net.eval()(x)[1] is None
    assert count_parameters(net, auxiliary=True) > count_parameters(net)
    # in training mode drop path makes two passes differ; without it they agree
    net.train()
    assert not torch.allclose(net(x)[0], net(x)[0])
    net.drop_path = 0.0
    assert torch.allclose(net(x)[0], net(x)[0])


def test_darts_v2_builds_and_matches_the_paper_size():
    x = torch.randn(2, 3, 32, 32)
    net = DartsNetwork(DARTS_V2, layers=8, channels=4, auxiliary=True).eval()
    assert net(x)[0].shape == (2, 10)
    assert net.genotype == net.reduce_genotype == format_genotype(as_genotype(DARTS_V2))
    # DARTS's own network (its reduction cell, 20 layers, 36 channels): 3.3M parameters in the
    # paper; with the normal cell also as the reduction cell (the arch2vec space) it is larger.
    full = DartsNetwork(DARTS_V2, reduce_genotype=DARTS_V2_REDUCE, auxiliary=True)
    assert count_parameters(full) == 3_349_342
    assert count_parameters(DartsNetwork(DARTS_V2)) == 3_713_302


def test_bad_genotypes_raise_one_line():
    with pytest.raises(ValueError, match=r"expected shape \(4, 2, 2\)"):
        DartsNetwork(np.zeros((3, 2, 2), dtype=np.int8))
    g = as_genotype(SMALL).copy()
    g[0, 1, 0] = g[0, 0, 0]
    with pytest.raises(ValueError, match="not a legal DARTS genotype"):
        DartsNetwork(g)
    with pytest.raises(ValueError, match="unknown op"):
        make_op("conv_7x7", 4, 1)


# --------------------------------------------------------------------------- data


def write_cifar_folder(root, n_per_batch: int = 4):
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, size=n_per_batch).tolist(),
        }
        with open(folder / name, "wb") as fh:
            pickle.dump(batch, fh)
    return folder


def test_load_cifar10_layout_and_errors(tmp_path):
    folder = write_cifar_folder(tmp_path)
    for path in (folder, tmp_path):
        train, test = load_cifar10(path)
        assert train.images.shape == (20, 3, 32, 32) and train.images.dtype == np.uint8
        assert train.labels.shape == (20,) and test.images.shape == (4, 3, 32, 32)
    with open(folder / "data_batch_1", "rb") as fh:
        raw = pickle.load(fh)
    assert np.array_equal(train.images[:4].reshape(4, -1), raw[b"data"])
    assert train.labels[:4].tolist() == raw[b"labels"]

    with pytest.raises(ValueError, match="not a directory") as err:
        load_cifar10(tmp_path / "nope")
    assert "nope" in str(err.value) and "\n" not in str(err.value)
    (folder / "test_batch").unlink()
    with pytest.raises(ValueError, match="missing test_batch"):
        load_cifar10(folder)
    (folder / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="test_batch: not a readable pickle"):
        load_cifar10(folder)


class Payload:
    """What a crafted batch file carries: a __reduce__ that would run a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_cifar_batch_is_refused_and_runs_nothing(tmp_path):
    folder = write_cifar_folder(tmp_path)
    marker = tmp_path / "pwned"
    with open(folder / "data_batch_2", "wb") as fh:
        pickle.dump({b"data": Payload(marker), b"labels": [1]}, fh)
    with pytest.raises(ValueError, match=r"data_batch_2: refuses to load posix.system") as err:
        load_cifar10(folder)
    assert "\n" not in str(err.value) and not marker.exists()
    # the official layout, pickled with protocol 2 (as the real files), still loads
    with open(folder / "data_batch_2", "wb") as fh:
        batch = {b"batch_label": b"x", b"labels": [1, 2], b"filenames": [b"a", b"b"]}
        batch[b"data"] = np.zeros((2, 3072), dtype=np.uint8)
        pickle.dump(batch, fh, protocol=2)
    train, _ = load_cifar10(folder)
    assert train.images.shape == (18, 3, 32, 32)


def test_as_image_data_layouts():
    hwc, labels = synthetic(3, 0)
    chw = hwc.transpose(0, 3, 1, 2)
    a = as_image_data((hwc, labels))
    assert np.array_equal(a.images, chw)
    assert np.array_equal(as_image_data((chw, labels)).images, chw)
    assert np.array_equal(as_image_data((chw.reshape(3, -1), labels)).images, chw)
    with pytest.raises(ValueError, match="uint8"):
        as_image_data((hwc.astype(np.float32), labels))
    with pytest.raises(ValueError, match="labels"):
        as_image_data((hwc, labels[:2]))


# --------------------------------------------------------------------------- training


def test_train_cell_tiny_is_finite_and_deterministic(data):
    train, valid = data
    epochs_seen = []
    a = train_cell(SMALL, train, valid, seed=3, log=epochs_seen.append, **TINY)
    b = train_cell(SMALL, train, valid, seed=3, **TINY)
    assert len(a["valid_accuracy"]) == 1 and 0 <= a["valid_accuracy"][0] <= 100
    assert a["reward"] == a["valid_accuracy"][0]
    assert math.isfinite(a["train_loss"][0]) and a["wall_time"] > 0
    assert a["params"] == count_parameters(DartsNetwork(SMALL, layers=3, channels=4))
    assert a["train_loss"] == b["train_loss"] and a["valid_accuracy"] == b["valid_accuracy"]
    assert [e["epoch"] for e in epochs_seen] == [1] and "valid_accuracy" in epochs_seen[0]
    c = train_cell(SMALL, train, valid, seed=4, **TINY)
    assert c["train_loss"] != a["train_loss"]


def test_reward_is_mean_of_last_epochs(data):
    train, valid = data
    rec = train_cell(
        SMALL, train.subset(slice(0, 16)), valid, **{**TINY, "epochs": 3, "batch_size": 8}, last=2
    )
    assert len(rec["valid_accuracy"]) == 3
    assert rec["reward"] == pytest.approx(np.mean(rec["valid_accuracy"][-2:]))


def test_training_evaluator_records_failures(data):
    train, valid = data
    seen = []
    ev = TrainingEvaluator(
        train_data=train.subset(slice(0, 16)),
        valid_data=valid,
        epochs=1,
        layers=3,
        channels=4,
        batch_size=8,
        cutout=False,
        auxiliary_weight=0.0,
        drop_path=0.0,
        device="cpu",
        log=seen.append,
    )
    assert isinstance(ev, Evaluator) and ev.describe()["evaluator"] == "train"
    good = sample_genotypes(2, seed=0)
    batch = [good[0], np.zeros((3, 2, 2), dtype=np.int8), good[1]]
    result = ev.evaluate(batch)
    assert result.ok.tolist() == [True, False, True]
    assert math.isnan(result.reward[1]) and "expected shape (4, 2, 2)" in result.error[1]
    assert result.error[0] is None and 0 <= result.reward[0] <= 100
    assert (result.cost > 0).all()
    assert result.info[2]["genotype"] == format_genotype(good[1])
    assert sorted({e["cell"] for e in seen}) == [0, 2]

    cells = genotypes_to_cells(good)
    bad = cells.ops.copy()
    bad[1, 3] = 2  # a "zero" op node: not a genotype
    result = ev.evaluate(Cells(cells.adjacency, bad, "darts"))
    assert result.ok.tolist() == [True, False] and "op_types" in result.error[1]


def test_training_evaluator_splits_a_cifar_folder(tmp_path):
    folder = write_cifar_folder(tmp_path, n_per_batch=4)
    ev = TrainingEvaluator(folder, train_portion=0.5, device="cpu")
    train, valid, test = ev.splits()
    assert len(train) == len(valid) == 10 and len(test) == 4
    full, _ = load_cifar10(folder)
    assert np.array_equal(valid.images, full.images[10:])
    assert ev.describe()["train_portion"] == 0.5


def test_final_evaluation_tiny(data):
    train, test = data
    rec = final_evaluation(
        SMALL,
        (train, test),
        epochs=1,
        layers=3,
        channels=4,
        batch_size=16,
        auxiliary_weight=0.4,
        drop_path=0.2,
        device="cpu",
    )
    assert 0 <= rec["test_accuracy_final"] <= 100
    assert rec["test_error"] == pytest.approx(100 - rec["test_accuracy_final"])
    assert rec["params_auxiliary"] > rec["params"] and math.isnan(rec["reward"])


def test_augmentation_matches_a_plain_reference():
    from arch2vec.evaluators.darts.data import CIFAR10_MEAN, CIFAR10_STD
    from arch2vec.evaluators.darts.trainer import _augment, _normalizer

    images, _ = synthetic(6, 2, channels_last=False)
    mean, std = _normalizer(torch.device("cpu"))
    out = _augment(torch.from_numpy(images), np.random.default_rng(7), mean, std, 16).numpy()
    rng = np.random.default_rng(7)  # the same draws, in the same order
    dy, dx, flip = rng.integers(0, 9, 6), rng.integers(0, 9, 6), rng.random(6) < 0.5
    cy, cx = rng.integers(0, 32, 6), rng.integers(0, 32, 6)
    m = np.array(CIFAR10_MEAN)[:, None, None]
    s = np.array(CIFAR10_STD)[:, None, None]
    for i in range(6):
        padded = np.pad(images[i] / 255.0, ((0, 0), (4, 4), (4, 4)))
        want = padded[:, dy[i] : dy[i] + 32, dx[i] : dx[i] + 32]
        if flip[i]:
            want = want[:, :, ::-1]
        want = (want - m) / s
        want[:, max(cy[i] - 8, 0) : cy[i] + 8, max(cx[i] - 8, 0) : cx[i] + 8] = 0
        np.testing.assert_allclose(out[i], want, atol=1e-5)
