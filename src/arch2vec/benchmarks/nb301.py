"""NAS-Bench-301 for the DARTS space: the YAHPO Gym v2 surrogate (an ONNX model), and a benchmark
over the sampled DARTS pool made of its predictions (its evaluator:
:class:`arch2vec.evaluators.nb301.NB301Evaluator`).

**Files.** The surrogate folder holds ``model_v2.onnx``, ``encoding_v2.json`` and
``config_space_v2.json`` (YAHPO Gym v2 ``nb301/``; :func:`surrogate_files` also accepts a folder
above it, e.g. ``.../nb301`` holding ``yahpo_data_v2/nb301/``). Running it needs only
``onnxruntime`` (the optional extra ``arch2vec[nb301]``). The model maps ``x_cat`` (34 int32
category codes) and ``x_cont`` (the epoch, 1..98) to ``val_accuracy`` (a fraction),
``val_cross_entropy``, ``runtime`` (s) and ``runtime_increase`` (s), in that order.

**The 34 choices** (:data:`COLUMNS`, named ``NetworkSelectorDatasetInfo_COLON_darts_COLON_...``)
describe a normal and a reduction cell: 14 ``edge_{type}_{e}`` op choices (one per edge of the
DARTS supernet, ``"#na#"`` when the edge is unused) and 3 ``inputs_node_{type}_{n}`` choices, the
two inputs ``"a_b"`` (``a < b``) of DARTS node ``n`` = 3, 4, 5. Edges are numbered node by node,
input by input: the edge from input ``i`` into intermediate node ``j`` is ``EDGE_START[j] + i``
with :data:`EDGE_START` = ``(0, 2, 5, 9)``; inputs use our numbering (0 = ``c_{k-2}``,
1 = ``c_{k-1}``, ``2 + i`` = intermediate node ``i``), and DARTS node ``n`` is our node
``n - 2``. Node 0 reads inputs 0 and 1 in every cell, so it has no input choice and its edges 0
and 1 are always active. Column order: normal edges 0..13, reduce edges 0..13, normal inputs of
nodes 3, 4, 5, reduce inputs of nodes 3, 4, 5. Codes come from ``encoding_v2.json`` (``#na#`` = 0,
then the choices in alphabetical order).

Evidence: (1) the config space's conditions make edge ``e`` of node ``n`` active exactly for the
input pairs containing its source, which :func:`_check_layout` re-derives from the file at load
time (edge 9 is active for ``0_1, 0_2, 0_3, 0_4`` of node 5, so its source is 0, ...); the two
unconditioned edges 0 and 1 follow the same node-by-node, input-by-input order (as in the
NAS-Bench-301 authors' genotype-to-config conversion, ``edge index = start + input``); (2) the
column order is YAHPO Gym's ``cat_names`` for ``nb301`` (numeric, not the alphabetical order of
the JSON files); (3) with this order the predicted runtime correlates more with the number of
convolutions (r = 0.68 on 3,000 random cells) than with the columns in alphabetical (0.60) or
randomly permuted edge order (0.56, 0.60); of the seven one-op cells, all ``sep_conv_5x5`` is
the slowest and most accurate, all ``skip_connect`` the fastest, all ``avg_pool_3x3`` the worst.
The encoding depends only on which input each edge reads, so the order of a node's two pairs does
not matter. As in the arch2vec DARTS setting, the reduction cell is the normal cell unless given.

**Runtime** is cumulative: the wall-clock training time up to and including the queried epoch.
Evidence: for random cells it grows from about 180-250 s at epoch 1 through about 560 s at
epoch 10 and 2,900 s at epoch 50 to about 5,100 s at epoch 98 (median), while ``runtime_increase``
stays at about 35-80 s at every epoch (roughly one epoch's time). So the cost of a cell is
``runtime`` at epoch 98, the time of the whole 98-epoch training run (NAS-Bench-301's schedule).

**Checks.** Predictions are deterministic. The median validation accuracy of 200 random cells
with an independently drawn reduction cell (as sampling the config space does) is 0.547 / 0.881 /
0.925 at epochs 1 / 50 / 98 (seed 1; the data's PROVENANCE.md: 0.547 / 0.88 / 0.924); with
reduction = normal it is 0.542 / 0.875 / 0.924. DARTS-V2 (reduction = normal) predicts 0.929.
One thread predicts about 125,000 cells/s in batches of 2,048, so the 600,000-cell pool takes
about 5 s; :func:`nb301_benchmark` caches it. Accuracies here are fractions; the evaluator
and :func:`nb301_benchmark` report percent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import io
from arch2vec.benchmarks.base import Benchmark
from arch2vec.spaces import darts

MODEL_FILE = "model_v2.onnx"
ENCODING_FILE = "encoding_v2.json"
CONFIG_SPACE_FILE = "config_space_v2.json"
SURROGATE_FILES = (MODEL_FILE, ENCODING_FILE, CONFIG_SPACE_FILE)
OUTPUTS = ("val_accuracy", "val_cross_entropy", "runtime", "runtime_increase")
MAX_EPOCH = 98
CELL_TYPES = ("normal", "reduce")
EDGE_START = (0, 2, 5, 9)
"""Edge index of the edge from input 0 into intermediate node ``j``."""
NUM_EDGES = 14
PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
NA = "#na#"
COLUMNS = tuple(f"{PREFIX}edge_{t}_{e}" for t in CELL_TYPES for e in range(NUM_EDGES)) + tuple(
    f"{PREFIX}inputs_node_{t}_{j + 2}" for t in CELL_TYPES for j in range(1, darts.NUM_STEPS)
)
"""The 34 ``x_cat`` columns in the model's order."""
CACHE_FORMAT = 1
BATCH = 2048

_logger = logging.getLogger(__name__)


def surrogate_files(surrogate_dir: str | Path) -> dict[str, Path]:
    """The three surrogate files in ``surrogate_dir`` (or its ``nb301/`` or
    ``yahpo_data_v2/nb301/``; a file there stands for its folder); raises a one-line
    ``ValueError`` naming the folder."""
    root = Path(surrogate_dir).expanduser()
    if root.is_file():
        root = root.parent
    for folder in (root, root / "nb301", root / "yahpo_data_v2" / "nb301"):
        if all((folder / name).is_file() for name in SURROGATE_FILES):
            return {name: folder / name for name in SURROGATE_FILES}
    if not root.is_dir():
        raise ValueError(f"NB-301 surrogate: {root} is not a folder")
    missing = [name for name in SURROGATE_FILES if not (root / name).is_file()]
    raise ValueError(
        f"NB-301 surrogate: {root} lacks {', '.join(missing)} (expected the YAHPO Gym v2 "
        "nb301 folder with model_v2.onnx, encoding_v2.json and config_space_v2.json)"
    )


def _bad(path: Path, problem: str) -> ValueError:
    return ValueError(f"NB-301 surrogate: {path}: {problem}")


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise _bad(path, f"unreadable JSON ({type(e).__name__})") from None
    if not isinstance(data, dict):
        raise _bad(path, "expected a JSON object")
    return data


def _pairs(node: int) -> list[str]:
    """The ``"a_b"`` input choices of our intermediate node ``node`` (>= 1)."""
    n = node + 2
    return [f"{a}_{b}" for a in range(n) for b in range(a + 1, n)]


def _check_layout(path: Path, space: dict[str, Any]) -> None:
    """Check that the config space describes cells exactly as the module docstring says."""
    hps = {hp.get("name"): hp for hp in space.get("hyperparameters", []) if isinstance(hp, dict)}
    for col in COLUMNS:
        if col not in hps:
            raise _bad(path, f"no choice {col}; not the YAHPO nb301 v2 config space")
        choices = hps[col].get("choices")
        if "_edge_" in col:
            expect: list[str] = list(darts.GENOTYPE_OPS)
        else:
            expect = _pairs(int(col.rsplit("_", 1)[1]) - 2)
        if not isinstance(choices, list) or sorted(choices) != sorted(expect):
            raise _bad(path, f"{col} has choices {choices}, expected {expect}")
    conditions = {c.get("child"): c for c in space.get("conditions", []) if isinstance(c, dict)}
    for t in CELL_TYPES:
        for j in range(darts.NUM_STEPS):
            for i in range(j + 2):
                col = f"{PREFIX}edge_{t}_{EDGE_START[j] + i}"
                cond = conditions.get(col)
                if j == 0:
                    if cond is not None:
                        raise _bad(path, f"{col} is conditional; expected it always active")
                    continue
                parent = f"{PREFIX}inputs_node_{t}_{j + 2}"
                expect = [p for p in _pairs(j) if str(i) in p.split("_")]
                if (
                    cond is None
                    or cond.get("parent") != parent
                    or sorted(cond.get("values", [])) != sorted(expect)
                ):
                    raise _bad(path, f"{col} is not the edge from input {i} into node {j + 2}")


class NB301Surrogate:
    """The YAHPO Gym v2 NAS-Bench-301 surrogate: DARTS genotypes in, predictions out.

    ``threads`` sets onnxruntime's intra-op threads (one is fastest for this small model on a
    busy machine); ``batch_size`` bounds the rows of one inference call.
    """

    def __init__(
        self, surrogate_dir: str | Path, threads: int = 1, batch_size: int = BATCH
    ) -> None:
        self._args = (str(surrogate_dir), int(threads), int(batch_size))
        files = surrogate_files(surrogate_dir)
        self.model_path = files[MODEL_FILE]
        self.directory = self.model_path.parent
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"NB-301 surrogate: batch_size must be >= 1, got {batch_size}")
        encoding = _load_json(files[ENCODING_FILE])
        _check_layout(files[CONFIG_SPACE_FILE], _load_json(files[CONFIG_SPACE_FILE]))
        self._build_tables(files[ENCODING_FILE], encoding)
        digest = hashlib.sha256()
        for name in SURROGATE_FILES:
            digest.update(files[name].read_bytes())
        self.fingerprint = digest.hexdigest()[:16]
        try:
            import onnxruntime as ort
        except ImportError:
            raise ImportError(
                "the NB-301 surrogate needs onnxruntime: pip install 'arch2vec[nb301]'"
            ) from None
        self.onnxruntime_version = ort.__version__
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # onnxruntime raises its own exception types
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise _bad(self.model_path, f"not a loadable ONNX model ({first[:200]})") from None
        inputs = {i.name: i.shape for i in self._session.get_inputs()}
        outputs = self._session.get_outputs()
        if (
            set(inputs) != {"x_cat", "x_cont"}
            or inputs["x_cat"][-1] != len(COLUMNS)
            or len(outputs) != 1
            or outputs[0].shape[-1] != len(OUTPUTS)
        ):
            raise _bad(self.model_path, f"unexpected inputs {inputs}; not the nb301 v2 model")
        self._output = outputs[0].name

    def __getstate__(self) -> dict[str, Any]:
        """Pickled as its arguments (an onnxruntime session cannot be pickled): a process or Ray
        worker re-opens the surrogate from the same directory."""
        return {"args": self._args}

    def __setstate__(self, state: dict[str, Any]) -> None:
        type(self).__init__(self, *state["args"])

    def _build_tables(self, path: Path, encoding: dict[str, Any]) -> None:
        """Code lookups: ``_na`` (34,), ``_op_code`` (28, 7), ``_pair_code`` (6, 5, 5)."""

        def code(col: str, value: str) -> int:
            try:
                return int(encoding[col][value])
            except (KeyError, TypeError, ValueError):
                raise _bad(path, f"no integer code for {value!r} of {col}") from None

        self._na = np.array([code(col, NA) for col in COLUMNS], dtype=np.int32)
        edges = 2 * NUM_EDGES
        self._op_code = np.array(
            [[code(col, op) for op in darts.GENOTYPE_OPS] for col in COLUMNS[:edges]],
            dtype=np.int32,
        )
        n_inputs = darts.NUM_STEPS + 1
        self._pair_code = np.full((len(COLUMNS) - edges, n_inputs, n_inputs), -1, np.int32)
        for k, col in enumerate(COLUMNS[edges:]):
            for pair in _pairs(int(col.rsplit("_", 1)[1]) - 2):
                a, b = map(int, pair.split("_"))
                self._pair_code[k, a, b] = code(col, pair)

    def encode(self, genotypes: np.ndarray, reduce: np.ndarray | None = None) -> np.ndarray:
        """``(B, 34)`` int32 ``x_cat`` of ``(B, 4, 2, 2)`` genotypes (reduction cell = normal
        cell unless ``reduce`` is given)."""
        cells = [self._genotypes(genotypes, "genotypes")]
        cells.append(cells[0] if reduce is None else self._genotypes(reduce, "reduce"))
        if len(cells[1]) != len(cells[0]):
            raise ValueError(
                f"NB-301 surrogate: {len(cells[0])} normal but {len(cells[1])} reduction cells"
            )
        b = len(cells[0])
        x = np.tile(self._na, (b, 1))
        rows = np.arange(b)[:, None]
        start = np.asarray(EDGE_START)[None, :, None]
        for t, g in enumerate(cells):
            inputs = g[..., 0].astype(np.intp)
            cols = (t * NUM_EDGES + start + inputs).reshape(b, 8)
            ops = g[..., 1].astype(np.intp).reshape(b, 8)
            x[rows, cols] = self._op_code[cols, ops]
            lo, hi = inputs.min(axis=2), inputs.max(axis=2)  # (B, 4)
            for j in range(1, darts.NUM_STEPS):
                k = t * (darts.NUM_STEPS - 1) + j - 1
                x[:, 2 * NUM_EDGES + k] = self._pair_code[k, lo[:, j], hi[:, j]]
        return x

    @staticmethod
    def _genotypes(genotypes: np.ndarray, what: str) -> np.ndarray:
        g = np.asarray(genotypes)
        if g.ndim == 3:
            g = g[None]
        if g.ndim != 4 or g.shape[1:] != (darts.NUM_STEPS, 2, 2):
            raise ValueError(
                f"NB-301 surrogate: {what} must have shape (B, 4, 2, 2), got {np.shape(genotypes)}"
            )
        ok = darts.check_genotypes(g)
        if not ok.all():
            bad = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"NB-301 surrogate: {what} {bad} is not a legal DARTS genotype")
        return g.astype(np.int8)

    def predict(
        self,
        genotypes: np.ndarray,
        epoch: int | np.ndarray = MAX_EPOCH,
        reduce: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Predictions for ``(B, 4, 2, 2)`` genotypes after ``epoch`` (1..98; one value or one
        per cell): each of :data:`OUTPUTS` as a ``(B,)`` float64 array (accuracy a fraction,
        runtime in seconds, cumulative up to ``epoch``)."""
        x_cat = self.encode(genotypes, reduce)
        b = len(x_cat)
        ep = np.asarray(epoch, dtype=np.float64)
        if ep.ndim > 1 or (ep.ndim == 1 and len(ep) != b):
            raise ValueError(f"NB-301 surrogate: epoch must be one value or {b} values")
        if ep.size and (
            not np.isfinite(ep).all()
            or (ep != np.round(ep)).any()
            or ep.min() < 1
            or ep.max() > MAX_EPOCH
        ):
            raise ValueError(f"NB-301 surrogate: epoch must be an integer in 1..{MAX_EPOCH}")
        x_cont = np.broadcast_to(ep, (b,)).astype(np.float32).reshape(b, 1)
        out = np.empty((b, len(OUTPUTS)), dtype=np.float64)
        for s in range(0, b, self.batch_size):
            e = min(b, s + self.batch_size)
            feed = {"x_cat": x_cat[s:e], "x_cont": np.ascontiguousarray(x_cont[s:e])}
            out[s:e] = self._session.run([self._output], feed)[0]
        return {name: out[:, k].copy() for k, name in enumerate(OUTPUTS)}

    def describe(self) -> dict[str, Any]:
        return {
            "surrogate": "NAS-Bench-301 (YAHPO Gym v2)",
            "surrogate_dir": str(self.directory),
            "surrogate_sha256": self.fingerprint,
            "onnxruntime": self.onnxruntime_version,
        }


def nb301_benchmark(
    surrogate_dir: str | Path | NB301Surrogate,
    space: darts.DartsSpace | None = None,
    epoch: int = MAX_EPOCH,
    rebuild: bool = False,
) -> Benchmark:
    """The surrogate's predictions for every cell of the DARTS pool as a :class:`Benchmark`.

    ``search`` = ``valid`` = predicted validation accuracy (percent) after ``epoch``, ``test`` NaN,
    ``cost`` = predicted training time up to ``epoch`` (s). The arrays are cached beside the pool
    (``nb301_{samples}_{seed}_e{epoch}.npz``), keyed by the surrogate files and the pool.
    """
    surrogate = (
        surrogate_dir
        if isinstance(surrogate_dir, NB301Surrogate)
        else NB301Surrogate(surrogate_dir)
    )
    if not 1 <= int(epoch) <= MAX_EPOCH or int(epoch) != epoch:
        raise ValueError(f"nb301 benchmark: epoch must be an integer in 1..{MAX_EPOCH}")
    epoch = int(epoch)
    space = space if space is not None else darts.DartsSpace()
    genotypes = space.genotypes()
    expect = {
        "format": CACHE_FORMAT,
        "benchmark": "nb301",
        "surrogate": surrogate.fingerprint,
        "pool": hashlib.sha256(np.ascontiguousarray(genotypes).tobytes()).hexdigest()[:16],
        "cells": len(genotypes),
        "epoch": epoch,
    }

    def predict() -> dict[str, np.ndarray]:
        pred = surrogate.predict(genotypes, epoch)
        return {
            "accuracy": 100.0 * pred["val_accuracy"],
            "runtime": np.maximum(pred["runtime"], 0.0),
        }

    path = io.data_dir(space.data_dir) / f"nb301_{space.samples}_{space.seed}_e{epoch}.npz"
    arrays = io.cached_arrays(path, expect, predict, rebuild=rebuild, log=_logger.warning)
    accuracy = arrays["accuracy"].astype(np.float64)
    if accuracy.shape != (len(genotypes),):
        raise io.CacheError(f"{path}: {accuracy.shape} accuracies for {len(genotypes)} cells")
    return Benchmark(
        name="nb301",
        space="darts",
        dataset="cifar10",
        search=accuracy,
        valid=accuracy.copy(),
        test=np.full(len(accuracy), np.nan),
        cost=arrays["runtime"].astype(np.float64),
        source=(
            f"NAS-Bench-301 surrogate (YAHPO Gym v2, sha256 {surrogate.fingerprint}): predicted "
            f"{epoch}-epoch validation accuracy and training time, reduction cell = normal cell"
        ),
    )
