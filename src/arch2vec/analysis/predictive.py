"""How predictive of accuracy is an architecture representation? (arch2vec paper, Figure 1.)

Yan et al. (2020) fit a Gaussian process on a representation of ``train_size`` = 250 randomly
sampled cells and their accuracy, predict the accuracy of every cell, and report the RMSE and
the Pearson correlation of prediction and truth on the cells whose accuracy is above 80 %
(NAS-Bench-101, mean +- std over 10 seeds: arch2vec RMSE 0.018 +- 0.001, r 0.67 +- 0.02;
supervised representation RMSE 0.038 +- 0.025, r 0.53 +- 0.09; accuracies as fractions).

This module measures the same for three representations:

- ``arch2vec``: the pre-trained embeddings (one 16-d vector per cell, ``arch2vec embed``);
- ``supervised``: :func:`~arch2vec.models.regressor.supervised_embedding` -- the same GIN
  encoder, not pre-trained, trained to regress the (standardised) accuracy of the training cells
  only, then the pooled 16-d latent of every cell; re-trained for each seed on that seed's
  training cells;
- ``flat``: :func:`flat_encoding` -- the upper-triangular adjacency and one-hot ops, flattened
  (no learning).

Choices the paper leaves open, made here:

- the GP (:func:`gp_predict`) is scikit-learn's ``GaussianProcessRegressor`` with kernel
  ``constant * RBF(isotropic length scale) + white noise``, hyper-parameters by maximum marginal
  likelihood, ``normalize_y=True``; features are standardised on the training cells (constant
  columns are left at zero);
- the metrics are computed on every cell of the pool above the threshold, the 250 training
  cells included (they are 1.6 % of NAS-Bench-201 and under 1 % of the 30k NAS-Bench-101
  subsets);
- every representation sees the same training cells for a seed; seed ``seed + s`` (``s`` in
  ``0..seeds-1``) draws them with ``numpy.random.default_rng(seed + s).choice(pool, ...)``, so a
  run with ``seed=6, seeds=1`` repeats the second seed of a run with ``seed=5``;
- std over seeds is the sample standard deviation (``ddof=1``; 0 for a single seed).

Accuracies are percentages (as in our benchmarks); RMSE is reported in percent and as a
fraction (``/ 100``, the paper's unit).

Cost (one CPU thread, 2-core machine shared with another job): training the supervised GIN on
250 cells (100 epochs of 8 mini-batches) takes 3-5 s; embedding all 15,625 NB-201 cells 0.6 s,
all 423,624 NB-101 cells 13 s. A GP fit and prediction of 15-30k cells takes 0.2-0.7 s. Ten seeds
of the three representations take about 50 s on NB-201 or the 30k NB-101 cells, 90 % of it in
the supervised embedding.

Observed (validation accuracy, 250 training cells, 10 seeds, RMSE as a fraction, mean +- std):
on the 30,001 labelled NB-101 cells arch2vec 0.0166 +- 0.0045 (r 0.66 +- 0.18), supervised
0.0152 +- 0.0047 (r 0.76 +- 0.10), flat 0.0163 +- 0.0056 (r 0.71 +- 0.13). The large spread
comes from the 4 seeds whose training cells include a diverged cell (about 10 % accuracy): it
ruins the GP fit of every representation. Without the 40 cells below 50 % in the pool
(``min_accuracy=50``): arch2vec 0.0140 +- 0.0009 (r 0.77 +- 0.03), supervised 0.0127 +- 0.0006
(r 0.81 +- 0.02), flat 0.0136 +- 0.0012 (r 0.78 +- 0.03).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import checks
from arch2vec import threads as thread_counts
from arch2vec.benchmarks.base import Benchmark
from arch2vec.models.regressor import supervised_embedding
from arch2vec.progress import Progress
from arch2vec.spaces.cells import Cells

_log = logging.getLogger(__name__)

Features = np.ndarray | Callable[[np.ndarray, int], np.ndarray]

PAPER_FIGURE1 = {  # NAS-Bench-101, accuracy as a fraction, mean and std over 10 seeds
    "arch2vec": {"rmse": (0.018, 0.001), "pearson_r": (0.67, 0.02)},
    "supervised": {"rmse": (0.038, 0.025), "pearson_r": (0.53, 0.09)},
}


def flat_encoding(cells: Cells, num_ops: int) -> np.ndarray:
    """``(B, N (N - 1) / 2 + N K)`` float32: each cell's strictly upper-triangular adjacency
    (row by row) followed by its one-hot ops (node by node; padding nodes are zero rows)."""
    n = cells.num_nodes
    rows, cols = np.triu_indices(n, k=1)
    adj = cells.adjacency[:, rows, cols].astype(np.float32)
    ops = cells.onehot(num_ops).reshape(len(cells), n * num_ops)
    return np.concatenate([adj, ops], axis=1)


def gp_predict(
    features: np.ndarray,
    train_idx: np.ndarray,
    targets: np.ndarray,
    predict_idx: np.ndarray | None = None,
    kernel: str = "rbf",
    restarts: int = 2,
    seed: int = 0,
    chunk: int = 20_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-process regression of ``targets`` on ``features[train_idx]``; the predictive mean
    and standard deviation (``(len(predict_idx),)`` float64 each, in the unit of ``targets``) of
    the rows ``predict_idx`` of ``features`` (default: all rows), ``chunk`` rows at a time.

    Kernel ``C * RBF(l) + White`` (``kernel="matern"``: Matern 5/2 instead of RBF), isotropic
    length scale, fitted by scikit-learn (``restarts`` extra optimiser starts drawn from
    ``seed``) on targets normalised to mean 0, std 1; features standardised on the training rows.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern, WhiteKernel

    x = np.asarray(features)
    if x.ndim != 2:
        raise ValueError(f"gp_predict: features must be (cells, d), got shape {x.shape}")
    train_idx = np.asarray(train_idx, dtype=np.int64)
    y = np.asarray(targets, dtype=np.float64)
    if train_idx.ndim != 1 or y.shape != train_idx.shape:
        raise ValueError(f"gp_predict: {len(y)} targets for {len(train_idx)} training rows")
    if len(train_idx) < 2:
        raise ValueError("gp_predict: needs at least 2 training rows")
    rows = np.arange(len(x)) if predict_idx is None else np.asarray(predict_idx, dtype=np.int64)
    for name, idx in (("train_idx", train_idx), ("predict_idx", rows)):
        if len(idx) and (idx.min() < 0 or idx.max() >= len(x)):
            raise ValueError(f"gp_predict: {name} outside 0..{len(x) - 1}")
    if kernel not in ("rbf", "matern"):
        raise ValueError(f"gp_predict: kernel must be 'rbf' or 'matern', not {kernel!r}")
    xt = x[train_idx].astype(np.float64)
    if not (np.isfinite(xt).all() and np.isfinite(y).all()):
        raise ValueError("gp_predict: training features and targets must be finite")
    mu = xt.mean(axis=0)
    sd = xt.std(axis=0)
    sd[sd < 1e-12] = 1.0
    d = x.shape[1]
    shape = math.sqrt(max(d, 1))  # typical distance between standardised points ~ sqrt(2 d)
    if kernel == "rbf":
        base = RBF(length_scale=shape, length_scale_bounds=(1e-2, 1e4))
    else:
        base = Matern(length_scale=shape, length_scale_bounds=(1e-2, 1e4), nu=2.5)
    k = ConstantKernel(1.0, (1e-3, 1e3)) * base + WhiteKernel(0.1, (1e-6, 1e1))
    gp = GaussianProcessRegressor(
        k, normalize_y=True, n_restarts_optimizer=restarts, random_state=int(seed)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a bound reached: still a fit
        gp.fit((xt - mu) / sd, y)
    mean = np.empty(len(rows))
    std = np.empty(len(rows))
    for s in range(0, len(rows), chunk):
        xs = (x[rows[s : s + chunk]].astype(np.float64) - mu) / sd
        if not np.isfinite(xs).all():
            raise ValueError("gp_predict: features of the rows to predict must be finite")
        mean[s : s + chunk], std[s : s + chunk] = gp.predict(xs, return_std=True)
    return mean, std


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import stats

    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.pearsonr(a, b).statistic)


def sample_std(values: Sequence[float] | np.ndarray) -> float:
    """The sample standard deviation (``ddof=1``) of ``values``; 0 for fewer than two."""
    a = np.asarray(values, dtype=np.float64)
    return float(a.std(ddof=1)) if len(a) > 1 else 0.0


def evaluate_predictive(
    features_by_name: Mapping[str, Features],
    accuracy: np.ndarray,
    pool: np.ndarray,
    train_size: int = 250,
    seeds: int = 10,
    threshold: float = 80.0,
    seed: int = 0,
    gp_options: dict[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """GP-predictiveness of each representation, over ``seeds`` draws of the training cells
    (``progress``: count the fits, :mod:`arch2vec.progress`; each fit's figures are DEBUG
    messages of this module's logger).

    ``features_by_name`` maps a name to ``(num_cells, d)`` features indexed like ``accuracy``, or
    to a callable ``(train_idx, seed) -> features`` (re-trained per seed, e.g. the supervised
    embedding; its rows outside ``pool`` are not read). ``accuracy`` is in percent and finite on
    ``pool`` (the cell indices that have one). For seed ``s``, ``train_size`` cells of ``pool``
    are drawn, a GP (:func:`gp_predict`, ``gp_options``) is fitted on each representation of
    them and predicts every pool cell; RMSE and Pearson r are computed on the pool cells with
    accuracy above ``threshold``.

    Returns ``{"config": ..., "results": {name: {"rmse", "rmse_std", "rmse_fraction",
    "rmse_fraction_std", "pearson_r", "pearson_r_std", "per_seed": {"seed", "rmse",
    "pearson_r", "seconds"}, "seconds"}}, "mean_predictor": {...}, "scatter": {name: {"true",
    "pred", "train"}}}``. ``mean_predictor`` is the RMSE of predicting every cell by the mean
    accuracy of the training cells (the floor a useful representation must beat); ``scatter``
    holds the first seed's arrays over the evaluated cells (``train`` marks the training cells)
    for :func:`plot_predictive`.
    """
    acc = np.asarray(accuracy, dtype=np.float64)
    pool = np.asarray(pool, dtype=np.int64)
    if not features_by_name:
        raise ValueError("evaluate_predictive: no feature sets given")
    if acc.ndim != 1 or pool.ndim != 1 or len(pool) == 0:
        raise ValueError("evaluate_predictive: accuracy and pool must be non-empty 1-d arrays")
    if pool.min() < 0 or pool.max() >= len(acc) or len(np.unique(pool)) != len(pool):
        raise ValueError(f"evaluate_predictive: pool must hold distinct indices in 0..{len(acc)}")
    if not np.isfinite(acc[pool]).all():
        raise ValueError("evaluate_predictive: the pool has cells without an accuracy")
    if not 2 <= train_size <= len(pool):
        raise ValueError(
            f"evaluate_predictive: train_size {train_size} must be in 2..{len(pool)} (pool size)"
        )
    if seeds < 1:
        raise ValueError(f"evaluate_predictive: seeds must be >= 1, got {seeds}")
    above = acc[pool] > threshold
    evaluated = pool[above]
    if len(evaluated) < 2:
        raise ValueError(
            f"evaluate_predictive: {len(evaluated)} pool cells have accuracy > {threshold} "
            f"(accuracies range {acc[pool].min():.4g}..{acc[pool].max():.4g}; percent expected)"
        )
    for name, feats in features_by_name.items():
        if not callable(feats) and (np.ndim(feats) != 2 or len(feats) != len(acc)):
            raise ValueError(
                f"evaluate_predictive: features {name!r} have shape {np.shape(feats)}, "
                f"expected ({len(acc)}, d)"
            )
    gp_options = dict(gp_options or {})
    baseline: list[float] = []  # RMSE of predicting the training cells' mean accuracy
    per: dict[str, dict[str, list]] = {
        name: {"seed": [], "rmse": [], "pearson_r": [], "seconds": []} for name in features_by_name
    }
    scatter: dict[str, dict[str, np.ndarray]] = {}
    bar = Progress(
        total=seeds * len(features_by_name),
        desc=f"predictive: GP fits on {train_size} cells",
        unit="fit",
        enabled=progress,
    )
    for s in range(seeds):
        rng = np.random.default_rng(seed + s)
        train_idx = rng.choice(pool, size=train_size, replace=False)
        baseline.append(float(np.sqrt(np.mean((acc[train_idx].mean() - acc[evaluated]) ** 2))))
        for name, feats in features_by_name.items():
            start = time.perf_counter()
            x = feats(train_idx, seed + s) if callable(feats) else feats
            x = np.asarray(x)
            if x.ndim != 2 or len(x) != len(acc):
                raise ValueError(
                    f"evaluate_predictive: features {name!r} have shape {x.shape}, "
                    f"expected ({len(acc)}, d)"
                )
            mean, _ = gp_predict(
                x, train_idx, acc[train_idx], predict_idx=pool, seed=seed + s, **gp_options
            )
            pred = mean[above]  # predictions of the evaluated cells
            true = acc[evaluated]
            rmse = float(np.sqrt(np.mean((pred - true) ** 2)))
            r = _pearson(pred, true)
            seconds = time.perf_counter() - start
            for key, value in (("seed", seed + s), ("rmse", rmse), ("pearson_r", r)):
                per[name][key].append(value)
            per[name]["seconds"].append(seconds)
            if s == 0:
                scatter[name] = {
                    "true": true,
                    "pred": pred,
                    "train": np.isin(evaluated, train_idx),
                }
            _log.debug(
                "seed %d %s: RMSE %.3f %%, r %.3f (%.1f s)", seed + s, name, rmse, r, seconds
            )
            bar.update(1)
            bar.note(**{name: f"RMSE {rmse:.3f} %"})
    bar.close()
    results = {}
    for name, p in per.items():
        rmses = p["rmse"]
        results[name] = {
            "rmse": float(np.mean(rmses)),
            "rmse_std": sample_std(rmses),
            "rmse_fraction": float(np.mean(rmses)) / 100.0,
            "rmse_fraction_std": sample_std(rmses) / 100.0,
            "pearson_r": float(np.mean(p["pearson_r"])),
            "pearson_r_std": sample_std(p["pearson_r"]),
            "per_seed": p,
            "seconds": float(np.sum(p["seconds"])),
        }
    config = {
        "train_size": int(train_size),
        "seeds": int(seeds),
        "threshold": float(threshold),
        "seed": int(seed),
        "pool_size": len(pool),
        "evaluated_cells": len(evaluated),
        "gp": {"kernel": "rbf", "restarts": 2, **gp_options},
    }
    mean_predictor = {
        "rmse": float(np.mean(baseline)),
        "rmse_std": sample_std(baseline),
        "rmse_fraction": float(np.mean(baseline)) / 100.0,
        "per_seed": baseline,
    }
    return {
        "config": config,
        "results": results,
        "mean_predictor": mean_predictor,
        "scatter": scatter,
    }


def predictive_figure(result: dict[str, Any], title: str = ""):
    """The figure of :func:`plot_predictive` (the caller closes it).

    Every panel zooms to the same square around the data: the 1st–99th percentiles of the true
    and predicted accuracies widened by a quarter of their span (never beyond the data), so a
    few wild predictions do not squeeze the data into a corner; points outside are counted in
    the panel ("k outside the view")."""
    from arch2vec.analysis.plots import pyplot

    plt = pyplot()
    scatter = result.get("scatter") or {}
    if not scatter:
        raise ValueError("plot_predictive: the result has no scatter data")
    names = list(scatter)
    values = np.concatenate(
        [
            np.r_[np.asarray(v["true"], float), np.asarray(v["pred"], float)]
            for v in scatter.values()
        ]
    )
    values = values[np.isfinite(values)]
    lo, hi = np.percentile(values, [1, 99]) if values.size else (0.0, 100.0)
    span = hi - lo if hi > lo else 1.0  # the data's own tails are kept, far outliers are not
    lo, hi = max(values.min(), lo - span / 4), min(values.max(), hi + span / 4)
    pad = 0.03 * (hi - lo if hi > lo else 1.0)
    lo, hi = lo - pad, hi + pad
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4.4), dpi=120, squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        v = scatter[name]
        true, pred = np.asarray(v["true"], float), np.asarray(v["pred"], float)
        per = result["results"][name]["per_seed"]
        train = np.asarray(v["train"], dtype=bool)
        ax.scatter(true[~train], pred[~train], s=2, alpha=0.3, label="predicted", rasterized=True)
        ax.scatter(true[train], pred[train], s=6, c="C3", label="training cells")
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        outside = int(np.sum((true < lo) | (true > hi) | (pred < lo) | (pred > hi)))
        if outside:
            ax.annotate(
                f"{outside:,} outside the view",
                (0.98, 0.02),
                xycoords="axes fraction",
                ha="right",
                fontsize=7,
                color="0.35",
            )
        ax.set_xlabel("true accuracy (%)")
        ax.set_ylabel("predicted accuracy (%)")
        which = f" (seed {per['seed'][0]})" if per.get("seed") else ""
        ax.set_title(
            f"{name}{which}\nRMSE {per['rmse'][0]:.3f} %, r {per['pearson_r'][0]:.3f}",
            fontsize=9,
        )
        ax.legend(loc="upper left", fontsize=7, markerscale=2)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_predictive(result: dict[str, Any], out_png: str | Path, title: str = "") -> Path:
    """Predicted against true accuracy of the evaluated cells (first seed), one panel per
    representation, with the diagonal; RMSE and r of that seed in each panel's title."""
    from arch2vec.analysis.plots import pyplot, save_figure

    fig = predictive_figure(result, title)
    try:
        return save_figure(fig, out_png)
    finally:
        pyplot().close(fig)


INCLUDE = ("arch2vec", "supervised", "flat")


def run_predictive(
    embeddings: str | Path | None,
    benchmark: str | Benchmark,
    out_dir: str | Path,
    train_size: int = 250,
    seeds: int = 10,
    threshold: float = 80.0,
    seed: int = 0,
    include: Sequence[str] = INCLUDE,
    min_accuracy: float | None = None,
    dataset: str | None = None,
    file: str | Path | None = None,
    data_dir: str | Path | None = None,
    columns: dict[str, str] | None = None,
    supervised_options: dict[str, Any] | None = None,
    threads: int | None = 1,
    progress: bool = False,
) -> dict[str, Any]:
    """Figure 1 of the paper on a benchmark: write ``out_dir/predictive.json`` and
    ``out_dir/predictive.png``, and return the JSON's content.

    ``embeddings`` is a pre-training run directory or an ``.npz`` of ``arch2vec embed`` (needed
    for ``"arch2vec"`` in ``include``); ``benchmark`` (a name, or a loaded Benchmark),
    ``dataset``, ``file``, ``data_dir`` are those of :func:`arch2vec.benchmarks.load`
    (``columns``: a ``table`` benchmark's, over the embeddings' space). The target is the
    benchmark's validation accuracy (its search reward where it has none; percent) on the cells
    that have one -- and, with ``min_accuracy``, at least that accuracy (a pool without the
    diverged cells, whose ~10 % accuracy in a training set ruins the GP fit of every
    representation; the paper's protocol keeps them: None); see :func:`evaluate_predictive` for
    the protocol and :func:`supervised_embedding` (``supervised_options``) for the supervised
    representation.
    ``threads`` sets torch's thread count (None: leave it); ``progress``: count the GP fits.
    """
    from arch2vec import __version__, benchmarks, io, spaces
    from arch2vec.models.run import load_embeddings

    include = tuple(include)
    unknown = [n for n in include if n not in INCLUDE]
    if unknown or not include or len(set(include)) != len(include):
        raise ValueError(f"include: expected distinct names among {', '.join(INCLUDE)}")
    if "arch2vec" in include and embeddings is None:
        raise ValueError("the arch2vec representation needs embeddings (a pre-training run)")
    checks.integer("train_size", train_size, 2, checks.MAX_CELLS)
    checks.integer("seeds", seeds, 1, checks.MAX_SEEDS)
    checks.number("threshold", threshold, 0, 100)
    if min_accuracy is not None:
        checks.number("min_accuracy", min_accuracy, 0, 100)
    checks.seed(seed)
    if threads is not None:
        thread_counts.use(threads)
    emb = space = None
    if "arch2vec" in include:
        assert embeddings is not None  # checked above
        emb = load_embeddings(embeddings)
        space = emb.load_space(data_dir)
    bench = benchmarks.load(benchmark, dataset, file, data_dir, space=space, columns=columns)
    space = space or spaces.get(bench.space, data_dir=data_dir)
    cells = space.all()
    accuracy = bench.valid if np.isfinite(bench.valid).any() else bench.search
    pool = bench.pool[np.isfinite(accuracy[bench.pool])]
    if len(pool) == 0:
        raise ValueError(f"benchmark {bench.name}: no validation accuracy to predict")
    if min_accuracy is not None:
        pool = pool[accuracy[pool] >= min_accuracy]
        if len(pool) < 2:
            raise ValueError(f"min_accuracy {min_accuracy} leaves {len(pool)} cells in the pool")
    if len(cells) != len(accuracy):
        raise ValueError(f"benchmark {bench.name}: {len(accuracy)} cells, space {len(cells)}")
    if not 2 <= train_size <= len(pool):
        raise ValueError(f"train_size {train_size} must be in 2..{len(pool)} (the pool size)")
    features: dict[str, Features] = {}
    if "arch2vec" in include:
        assert emb is not None  # loaded above
        features["arch2vec"] = emb.check_space(space, str(embeddings))
    if "supervised" in include:
        options = dict(supervised_options or {})

        def supervised(train_idx: np.ndarray, s: int) -> np.ndarray:
            emb = supervised_embedding(
                space, cells, train_idx, accuracy[train_idx], s, indices=pool, **options
            )
            full = np.full((len(cells), emb.shape[1]), np.nan, dtype=np.float32)
            full[pool] = emb
            return full

        features["supervised"] = supervised
    if "flat" in include:
        features["flat"] = flat_encoding(cells, len(space.ops))
    start = time.perf_counter()
    result = evaluate_predictive(
        features, accuracy, pool, train_size, seeds, threshold, seed, progress=progress
    )
    wall = time.perf_counter() - start
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {
        "arch2vec": __version__,
        "benchmark": bench.name,
        "dataset": bench.dataset,
        "space": bench.space,
        "source": bench.source,
        "target": "valid",
        "embeddings": None if embeddings is None else str(embeddings),
        "config": {**result["config"], "include": list(include), "min_accuracy": min_accuracy},
        "supervised_options": dict(supervised_options or {}),
        "results": result["results"],
        "mean_predictor": result["mean_predictor"],
        "paper_nb101": PAPER_FIGURE1,
        "seconds": wall,
    }
    plot_predictive(
        result,
        out_dir / "predictive.png",
        title=f"{bench.name} {bench.dataset}: GP on {train_size} cells, accuracy > {threshold} %",
    )
    io.atomic_write_json(out_dir / "predictive.json", jsonable(summary))
    return summary


def jsonable(obj: Any) -> Any:
    """NaN -> None, NumPy scalars -> Python numbers, recursively."""
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    return obj
