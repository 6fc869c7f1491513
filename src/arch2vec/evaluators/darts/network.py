"""The DARTS CIFAR network built from a genotype of the DARTS space (PyTorch).

Follows the evaluation network of the DARTS paper (Liu et al., ICLR 2019, section 3 and
appendix A.2), written from that description:

* **Stem**: 3x3 convolution from 3 to ``3 * channels`` channels, then batch norm.
* **Cells**: ``layers`` cells; the cells at indices ``layers // 3`` and ``2 * layers // 3`` are
  *reduction* cells (stride 2 on the ops that read the cell inputs, channels doubled), the others
  are *normal* cells. A cell reads the outputs of the two previous cells ``c_{k-2}`` and
  ``c_{k-1}`` (both the stem output for the first cell), preprocesses each to the cell's width
  ``C`` (ReLU - 1x1 conv - BN; a *factorized reduce* for ``c_{k-2}`` when the previous cell
  reduced, so both inputs have the same spatial size), then computes four intermediate nodes, each
  the sum of two ops applied to its chosen inputs (see :mod:`arch2vec.spaces.darts` for the
  genotype layout). The cell output concatenates the four intermediate nodes (``4 * C`` channels,
  DARTS's ``concat = [2, 3, 4, 5]``). As in the arch2vec paper, one genotype serves as both normal
  and reduction cell; ``reduce_genotype`` may give the reduction cell its own genotype (e.g. to
  rebuild a DARTS paper network).
* **Head**: global average pooling and a linear classifier.
* **Auxiliary head** (``auxiliary=True``): on the output of the cell at ``2 * layers // 3`` (the
  second reduction cell, 8x8 for 32x32 inputs): ReLU, 5x5 average pooling with stride 3
  (padding excluded), 1x1 conv to 128 channels, BN, ReLU, 2x2 conv to 768, BN, ReLU, spatial mean
  and a linear classifier. Computed only in training mode; it needs feature maps of at least 5x5
  there (inputs of at least 20x20 pixels).
* **Drop path** (``model.drop_path`` probability, set per epoch by the training loop): in training
  mode each op that is not an identity has its output zeroed per sample with that probability and
  the survivors scaled by ``1 / (1 - p)``.

**Ops** (:data:`~arch2vec.spaces.darts.GENOTYPE_OPS`), ``stride`` 2 on the edges of a reduction
cell that read ``c_{k-2}`` or ``c_{k-1}``:

* ``sep_conv_kxk``: two stacked blocks of ReLU - depthwise kxk conv - pointwise 1x1 conv - BN
  (stride on the first depthwise conv only);
* ``dil_conv_kxk``: ReLU - depthwise kxk conv with dilation 2 - pointwise 1x1 conv - BN (receptive
  field 5x5 / 9x9);
* ``max_pool_3x3`` / ``avg_pool_3x3``: 3x3 pooling with padding 1 (average excludes the padding).
  **No batch norm after pools**: this is the DARTS *evaluation* network (the search network's
  pools carry an affine-free BN, which only matters for the continuous relaxation);
* ``skip_connect``: identity at stride 1, a factorized reduce at stride 2.

**Factorized reduce** (``C_in -> C_out`` at stride 2): ReLU, then two 1x1 stride-2 convolutions,
one on the input and one on the input shifted by one pixel (diagonally), giving ``C_out // 2`` and
``C_out - C_out // 2`` channels, concatenated, then BN. The shift pads one zero row and column at
the bottom right so odd sizes work too.

All convolutions are bias-free and every batch norm is affine. :func:`count_parameters` counts the
parameters without the auxiliary head by default, as the DARTS paper reports model sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from arch2vec.spaces.darts import (
    GENOTYPE_OPS,
    NUM_STEPS,
    check_genotypes,
    format_genotype,
    parse_genotype,
)

DARTS_V2 = (
    "[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)]"
)
"""The normal cell DARTS (second order) found, from the DARTS paper (its Figure 4)."""

DARTS_V2_REDUCE = (
    "[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), "
    "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)]"
)
"""The reduction cell DARTS (second order) found, from the DARTS paper (its Figure 5)."""


def as_genotype(genotype: str | np.ndarray | Sequence) -> np.ndarray:
    """One genotype as a ``(4, 2, 2)`` int8 array, from text or an array; one-line ``ValueError``.

    Accepts DARTS's ``normal`` list text, a ``(4, 2, 2)`` array or a batch of one.
    """
    if isinstance(genotype, str):
        return parse_genotype(genotype)
    g = np.asarray(genotype)
    if g.ndim == 4 and len(g) == 1:
        g = g[0]
    if g.shape != (NUM_STEPS, 2, 2):
        raise ValueError(f"genotype: expected shape (4, 2, 2), got {g.shape}")
    if not np.issubdtype(g.dtype, np.integer):
        raise ValueError(f"genotype: expected integer entries, got dtype {g.dtype}")
    if not check_genotypes(g)[0]:
        raise ValueError(
            "genotype: not a legal DARTS genotype (input out of range for its node, op out of "
            f"range, or a node reading one input twice): {g.reshape(-1).tolist()}"
        )
    return g.astype(np.int8)


# --------------------------------------------------------------------------- ops


class ReLUConvBN(nn.Module):
    """ReLU - ``k x k`` conv - BN."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class DilConv(nn.Module):
    """ReLU - depthwise ``k x k`` conv (dilation ``d``) - pointwise 1x1 conv - BN."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int
    ) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                c_in,
                c_in,
                kernel,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=c_in,
                bias=False,
            ),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class SepConv(nn.Module):
    """Two stacked ReLU - depthwise - pointwise - BN blocks (stride on the first)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            DilConv(c_in, c_in, kernel, stride, padding, 1),
            DilConv(c_in, c_out, kernel, 1, padding, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class FactorizedReduce(nn.Module):
    """Halve the spatial size with two 1x1 stride-2 convs on offset pixel grids (see module)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        half = c_out // 2
        if half < 1:
            raise ValueError(f"FactorizedReduce: needs at least 2 output channels, got {c_out}")
        self.conv_a = nn.Conv2d(c_in, half, 1, stride=2, bias=False)
        self.conv_b = nn.Conv2d(c_in, c_out - half, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.conv_a(x), self.conv_b(shifted)], dim=1))


def make_op(name: str, channels: int, stride: int) -> nn.Module:
    """The op ``name`` of :data:`GENOTYPE_OPS` on ``channels`` channels at ``stride`` 1 or 2."""
    if stride not in (1, 2):
        raise ValueError(f"make_op: stride must be 1 or 2, got {stride}")
    c = channels
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    if name == "sep_conv_3x3":
        return SepConv(c, c, 3, stride, 1)
    if name == "sep_conv_5x5":
        return SepConv(c, c, 5, stride, 2)
    if name == "dil_conv_3x3":
        return DilConv(c, c, 3, stride, 2, 2)
    if name == "dil_conv_5x5":
        return DilConv(c, c, 5, stride, 4, 2)
    raise ValueError(f"make_op: unknown op {name!r} (expected one of {', '.join(GENOTYPE_OPS)})")


def drop_path(x: torch.Tensor, prob: float) -> torch.Tensor:
    """Zero whole samples of ``x`` with probability ``prob``, scaling the rest by ``1/(1-prob)``."""
    keep = 1.0 - prob
    mask = torch.empty((x.shape[0], 1, 1, 1), device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x * (mask / keep)


# --------------------------------------------------------------------------- cell and network


class Cell(nn.Module):
    """One DARTS cell of a genotype: ``forward(c_{k-2}, c_{k-1}, drop_prob) -> c_k``."""

    def __init__(
        self,
        genotype: np.ndarray,
        c_prev_prev: int,
        c_prev: int,
        channels: int,
        reduction: bool,
        reduction_prev: bool,
    ) -> None:
        super().__init__()
        g = as_genotype(genotype)
        self.reduction = reduction
        if reduction_prev:
            self.pre0: nn.Module = FactorizedReduce(c_prev_prev, channels)
        else:
            self.pre0 = ReLUConvBN(c_prev_prev, channels, 1, 1, 0)
        self.pre1 = ReLUConvBN(c_prev, channels, 1, 1, 0)
        flat = g.reshape(2 * NUM_STEPS, 2)
        self.inputs = [int(i) for i in flat[:, 0]]
        self.op_names = [GENOTYPE_OPS[int(o)] for o in flat[:, 1]]
        self.ops = nn.ModuleList(
            make_op(name, channels, 2 if reduction and inp < 2 else 1)
            for inp, name in zip(self.inputs, self.op_names, strict=True)
        )
        self.multiplier = NUM_STEPS

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        dropping = self.training and drop_prob > 0
        for step in range(NUM_STEPS):
            total = None
            for k in (2 * step, 2 * step + 1):
                op = self.ops[k]
                h = op(states[self.inputs[k]])
                if dropping and not isinstance(op, nn.Identity):
                    h = drop_path(h, drop_prob)
                total = h if total is None else total + h
            states.append(total)
        return torch.cat(states[2:], dim=1)


class AuxiliaryHead(nn.Module):
    """The DARTS CIFAR auxiliary classifier (see the module docstring)."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(channels, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(dim=(2, 3)))


def reduction_layers(layers: int) -> tuple[int, ...]:
    """Indices of the reduction cells: ``layers // 3`` and ``2 * layers // 3``."""
    return tuple(sorted({layers // 3, 2 * layers // 3}))


class DartsNetwork(nn.Module):
    """The DARTS CIFAR network of one genotype (see the module docstring).

    ``forward(x)`` returns ``(logits, aux_logits)``; ``aux_logits`` is ``None`` unless the network
    has an auxiliary head and is in training mode. Set ``drop_path`` (a probability) on the
    instance to change it between epochs.
    """

    def __init__(
        self,
        genotype: str | np.ndarray,
        layers: int = 20,
        channels: int = 36,
        num_classes: int = 10,
        auxiliary: bool = False,
        drop_path: float = 0.0,
        reduce_genotype: str | np.ndarray | None = None,
        stem_multiplier: int = 3,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if layers < 1 or channels < 1 or num_classes < 1:
            raise ValueError(
                f"DartsNetwork: layers, channels and num_classes must be positive, "
                f"got {layers}, {channels}, {num_classes}"
            )
        if not 0.0 <= drop_path < 1.0:
            raise ValueError(f"DartsNetwork: drop_path must be in [0, 1), got {drop_path}")
        normal = as_genotype(genotype)
        reduce = normal if reduce_genotype is None else as_genotype(reduce_genotype)
        self.genotype = format_genotype(normal)
        self.reduce_genotype = format_genotype(reduce)
        self.layers = layers
        self.channels = channels
        self.num_classes = num_classes
        self.drop_path = float(drop_path)
        self.reductions = reduction_layers(layers)
        self.aux_layer = 2 * layers // 3 if auxiliary else None

        c_stem = stem_multiplier * channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem)
        )
        c_pp, c_p, c = c_stem, c_stem, channels
        reduction_prev = False
        self.cells = nn.ModuleList()
        c_aux = 0
        for i in range(layers):
            reduction = i in self.reductions
            if reduction:
                c *= 2
            cell = Cell(reduce if reduction else normal, c_pp, c_p, c, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            c_pp, c_p = c_p, cell.multiplier * c
            if i == self.aux_layer:
                c_aux = c_p
        self.auxiliary_head = AuxiliaryHead(c_aux, num_classes) if auxiliary else None
        self.classifier = nn.Linear(c_p, num_classes)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of every cell, in order (for inspection; no drop path, no heads)."""
        s0 = s1 = self.stem(x)
        out = []
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, 0.0)
            out.append(s1)
        return out

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        s0 = s1 = self.stem(x)
        aux = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path)
            if i == self.aux_layer and self.training and self.auxiliary_head is not None:
                aux = self.auxiliary_head(s1)
        logits = self.classifier(s1.mean(dim=(2, 3)))
        return logits, aux


def count_parameters(model: nn.Module, auxiliary: bool = False) -> int:
    """Number of parameters of ``model``; without its auxiliary head unless ``auxiliary``."""
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if auxiliary or not name.startswith("auxiliary_head.")
    )
