"""A predictor benchmark of architecture representations (issue 15, part 1).

The question of NASLib's predictor study (White et al., NeurIPS 2021), asked of arch2vec: how
well does a regressor on a representation rank the cells it has not seen, as a function of how
many labelled cells it learns from? Every *representation* is paired with every *regressor*;
each pair is trained on ``size`` random cells of a benchmark's pool (``train_sizes``: 16, 32,
..., 1024) and predicts the accuracy of **all the other cells of the pool**, which are scored by

- ``kendall_tau`` (Kendall's tau-b), ``spearman_rho``, ``pearson_r`` (``scipy.stats``),
- ``rmse`` (in the unit of the accuracies: percent),
- ``top_precision``: the fraction of the true top ``top_fraction`` (5 %) of the scored cells
  among the predicted top 5 % (``k = max(1, round(top_fraction * n))`` cells each; ties are
  broken uniformly at random and the expectation is taken, so a constant prediction scores
  ``k / n`` -- see :func:`top_precision`),

as the mean and sample standard deviation over ``seeds`` (10) draws of the training cells (over
the draws where the metric is defined: a regressor that predicts a constant ranks nothing, so its
correlations are NaN there; ``undefined`` counts those draws).

Representations (:func:`run_predictors`):

- each embeddings file given (arch2vec; GAE and VGAE runs are other embeddings files), named by
  its run directory or ``NAME=PATH``;
- ``flat``: :func:`~arch2vec.analysis.predictive.flat_encoding`, the upper-triangular adjacency
  and one-hot ops;
- ``path``: :func:`~arch2vec.spaces.paths.path_encoding` (BANANAS), the input-to-output op paths
  present, truncated to the paths seen in the pool; paths through ``none`` / ``zero`` ops are cut;
- ``supervised``: :func:`~arch2vec.models.regressor.supervised_embedding`, the GIN encoder
  trained on the training cells' accuracies only (re-trained for every size and seed), then the
  16-d latent of every pool cell;
- ``finetuned`` (on request): for each embeddings given as an arch2vec pre-training run, the same
  supervised training started from that run's encoder instead of a random one (the pre-trained
  embeddings fine-tuned on the labelled cells, as the semi-supervised CATE / SemiNAS line does),
  named ``NAME+finetuned``.

End-to-end predictors (on request; the regressor column :data:`OWN`):

- ``ensemble``: for each arch2vec pre-training run, ``NAME+ensemble``: five GINs started from its
  encoder, each fine-tuned on the training cells' accuracies with a pairwise ranking term
  beside the squared error (:func:`~arch2vec.models.regressor.gin_predictions`), predicting
  through their own heads; the mean of the five. With ``functional`` (below) it reads the
  canonical cells and its predictions are averaged per network: the predictor of issue 20,
  Kendall tau 0.79 at 156 cells on NB-201 CIFAR-10 (BENCHMARKS.md).

Regressors (:data:`REGRESSORS`; each ``(features, train_idx, targets, test_idx, seed) ->
predictions``):

- ``gp``: :func:`~arch2vec.analysis.predictive.gp_predict` (constant x RBF + white noise,
  maximum marginal likelihood, 2 restarts), its predictive mean;
- ``dngo``: DNGO, the surrogate of arch2vec-BO: :class:`~arch2vec.models.dngo.MLP` (128 ReLU
  units, 100 epochs of full-batch Adam at 1e-2) then
  :class:`~arch2vec.models.dngo.BayesianLinearRegression` on its hidden layer, the posterior mean;
- ``gbt``: scikit-learn's ``HistGradientBoostingRegressor`` (defaults: 100 trees of at most 31
  leaves, learning rate 0.1) with ``min_samples_leaf`` = ``clip(size // 16, 2, 20)`` (the default
  20 leaves no split on 16-32 cells: a constant prediction);
- ``mlp``: an ensemble of 5 networks of the same kind as DNGO's (own initialisations), the mean
  of their outputs.

Features are standardised on the training cells (constant columns left at zero) and targets to
mean 0, std 1 for the networks. Every pair sees the same training cells for a (size, seed): seed
``s`` (``seed``, ``seed + 1``, ...) permutes the pool with ``numpy.random.default_rng(s)`` and
size ``n`` trains on the first ``n`` cells of that order, so the training sets of one seed are
nested; ``s`` also seeds the regressors and the supervised encoder.

Cost, NB-201 CIFAR-10 (15,625 cells), one thread on a 2-core machine: three embeddings files +
flat, path and supervised with DNGO, gradient boosting and the MLP ensemble, 7 sizes x 10 seeds,
8 min 37 s (the supervised GIN, re-trained 70 times, is most of it); the GP up to 256 cells 70 s
for five representations; scikit-learn's GP takes 1-2 minutes a fit at 1,024 cells.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import checks
from arch2vec import threads as thread_counts
from arch2vec.analysis.predictive import Features, flat_encoding, gp_predict, jsonable, sample_std
from arch2vec.benchmarks.base import Benchmark
from arch2vec.progress import Progress

_log = logging.getLogger(__name__)

Regressor = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]
"""``(features, train_idx, targets, test_idx, seed) -> predictions of the rows test_idx``."""
Predictor = Callable[[np.ndarray, np.ndarray, int], np.ndarray]
"""``(train_idx, targets, seed) -> (n,) predictions of every cell``: an end-to-end predictor."""
OWN = "own"
"""The regressor column of an end-to-end predictor (its own head)."""

TRAIN_SIZES = (16, 32, 64, 128, 256, 512, 1024)
METRICS = ("kendall_tau", "spearman_rho", "pearson_r", "rmse", "top_precision")
METRIC_LABELS = {
    "kendall_tau": "Kendall tau",
    "spearman_rho": "Spearman rho",
    "pearson_r": "Pearson r",
    "rmse": "RMSE (%)",
    "top_precision": "precision of the top {top} %",
}
INCLUDE = ("flat", "path", "supervised")
OPTIONAL = ("finetuned", "ensemble")  # on request: each arch2vec run's encoder, per draw
TOP_FRACTION = 0.05


# ---------------------------------------------------------------------------------------------
# Metrics


def _top_weights(values: np.ndarray, k: int) -> np.ndarray:
    """The probability that each value is among the ``k`` largest when ties are broken
    uniformly at random."""
    kth = np.partition(values, len(values) - k)[len(values) - k]  # the k-th largest
    above = values > kth
    tied = values == kth
    weights = above.astype(np.float64)
    weights[tied] = (k - int(above.sum())) / int(tied.sum())
    return weights


def top_precision(true: np.ndarray, pred: np.ndarray, fraction: float = TOP_FRACTION) -> float:
    """The fraction of the true top ``fraction`` of the cells among the predicted top
    ``fraction``: ``k = max(1, round(fraction * n))`` cells each. Ties (in the truth or the
    predictions) at the k-th place are broken uniformly at random, and the expected fraction is
    returned: a constant prediction scores ``k / n``."""
    true = np.asarray(true, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    if true.shape != pred.shape or true.ndim != 1 or len(true) == 0:
        raise ValueError("top_precision: true and pred must be 1-d arrays of one non-zero length")
    if not 0 < fraction <= 1:
        raise ValueError(f"top_precision: fraction must be in (0, 1], got {fraction}")
    k = max(1, int(round(fraction * len(true))))
    return float(np.dot(_top_weights(true, k), _top_weights(pred, k)) / k)


def prediction_metrics(
    true: np.ndarray, pred: np.ndarray, top_fraction: float = TOP_FRACTION
) -> dict[str, float]:
    """:data:`METRICS` of predictions ``pred`` of ``true``: Kendall's tau-b, Spearman's rho,
    Pearson's r (NaN where undefined: fewer than 2 cells, or constant values), RMSE and
    :func:`top_precision`. Non-finite predictions give NaN for every metric."""
    from scipy import stats

    true = np.asarray(true, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    if true.shape != pred.shape or true.ndim != 1:
        raise ValueError(f"prediction_metrics: shapes {true.shape} and {pred.shape} differ")
    nan = float("nan")
    if len(true) == 0 or not np.isfinite(pred).all():
        return dict.fromkeys(METRICS, nan)
    out = {"rmse": float(np.sqrt(np.mean((pred - true) ** 2)))}
    if len(true) < 2 or np.ptp(true) == 0 or np.ptp(pred) == 0:
        out.update(kendall_tau=nan, spearman_rho=nan, pearson_r=nan)
    else:
        out["kendall_tau"] = float(stats.kendalltau(true, pred).statistic)
        out["spearman_rho"] = float(stats.spearmanr(true, pred).statistic)
        out["pearson_r"] = float(stats.pearsonr(true, pred).statistic)
    out["top_precision"] = top_precision(true, pred, top_fraction)
    return {m: out[m] for m in METRICS}


# ---------------------------------------------------------------------------------------------
# Regressors


def _standardised(x: np.ndarray, train_idx: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x[rows]`` standardised with the mean and std of ``x[train_idx]``, float32."""
    xt = np.asarray(x[train_idx], dtype=np.float64)
    mu = xt.mean(axis=0)
    sd = xt.std(axis=0)
    sd[sd < 1e-12] = 1.0
    return ((np.asarray(x[rows], dtype=np.float64) - mu) / sd).astype(np.float32)


def _standard_targets(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    y = np.asarray(y, dtype=np.float64)
    mean, sd = float(y.mean()), float(y.std())
    sd = sd if sd > 1e-12 else 1.0
    return (y - mean) / sd, mean, sd


def gp_regressor(
    features: np.ndarray,
    train_idx: np.ndarray,
    targets: np.ndarray,
    test_idx: np.ndarray,
    seed: int,
    **options: Any,
) -> np.ndarray:
    """The predictive mean of :func:`~arch2vec.analysis.predictive.gp_predict` (``options``:
    its ``kernel``, ``restarts``)."""
    mean, _ = gp_predict(features, train_idx, targets, test_idx, seed=seed, **options)
    return mean


def dngo_regressor(
    features: np.ndarray,
    train_idx: np.ndarray,
    targets: np.ndarray,
    test_idx: np.ndarray,
    seed: int,
    hidden: int = 128,
    activation: str = "relu",
    epochs: int = 100,
    lr: float = 1e-2,
    log_bounds: tuple[float, float] = (-10.0, 10.0),
) -> np.ndarray:
    """DNGO as arch2vec-BO fits it: a one-hidden-layer network trained on the standardised
    targets, then Bayesian linear regression on its hidden layer plus a constant; the
    posterior mean."""
    from arch2vec.models.dngo import MLP, BayesianLinearRegression

    ys, mean, sd = _standard_targets(targets)
    xt = _standardised(features, train_idx, train_idx)
    net = MLP(xt.shape[1], hidden, activation, np.random.default_rng(seed))
    net.fit(xt, ys, epochs, lr)
    blr = BayesianLinearRegression(log_bounds).fit(net.hidden(xt, bias=True), ys)
    pred, _ = blr.predict(net.hidden(_standardised(features, train_idx, test_idx), bias=True))
    return pred * sd + mean


def mlp_regressor(
    features: np.ndarray,
    train_idx: np.ndarray,
    targets: np.ndarray,
    test_idx: np.ndarray,
    seed: int,
    members: int = 5,
    hidden: int = 128,
    activation: str = "relu",
    epochs: int = 100,
    lr: float = 1e-2,
) -> np.ndarray:
    """The mean output of ``members`` one-hidden-layer networks
    (:class:`~arch2vec.models.dngo.MLP`, member ``m`` initialised from ``(seed, m)``) trained
    on the standardised targets."""
    from arch2vec.models.dngo import MLP

    ys, mean, sd = _standard_targets(targets)
    xt = _standardised(features, train_idx, train_idx)
    xp = _standardised(features, train_idx, test_idx)
    total = np.zeros(len(xp))
    for m in range(members):
        net = MLP(xt.shape[1], hidden, activation, np.random.default_rng([seed, m]))
        net.fit(xt, ys, epochs, lr)
        total += net.hidden(xp).astype(np.float64) @ net.w2 + net.b2[0]
    return total / members * sd + mean


def gbt_regressor(
    features: np.ndarray,
    train_idx: np.ndarray,
    targets: np.ndarray,
    test_idx: np.ndarray,
    seed: int,
    min_samples_leaf: int | None = None,
    **options: Any,
) -> np.ndarray:
    """scikit-learn's ``HistGradientBoostingRegressor`` (``options``: its parameters);
    ``min_samples_leaf`` None: ``clip(len(train_idx) // 16, 2, 20)``."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    if min_samples_leaf is None:
        min_samples_leaf = int(np.clip(len(train_idx) // 16, 2, 20))
    model = HistGradientBoostingRegressor(
        min_samples_leaf=min_samples_leaf, random_state=int(seed), **options
    )
    model.fit(np.asarray(features[train_idx], dtype=np.float64), np.asarray(targets, np.float64))
    return model.predict(np.asarray(features[test_idx], dtype=np.float64))


REGRESSORS: dict[str, Regressor] = {
    "gp": gp_regressor,
    "dngo": dngo_regressor,
    "gbt": gbt_regressor,
    "mlp": mlp_regressor,
}
"""The built-in regressors by name."""


def _regressors(regressors: Sequence[str] | Mapping[str, Regressor]) -> dict[str, Regressor]:
    if isinstance(regressors, Mapping):
        chosen = dict(regressors)
        bad = [n for n, fn in chosen.items() if not callable(fn)]
        if bad:
            raise ValueError(f"regressors: {bad[0]!r} is not callable")
    else:
        names = list(regressors)
        unknown = [n for n in names if n not in REGRESSORS]
        if unknown:
            raise ValueError(
                f"regressors: unknown {unknown[0]!r}; expected some of {', '.join(REGRESSORS)}"
            )
        if len(set(names)) != len(names):
            raise ValueError("regressors: a regressor is named twice")
        chosen = {n: REGRESSORS[n] for n in names}
    if not chosen:
        raise ValueError("regressors: none given")
    return chosen


def check_train_sizes(train_sizes: Sequence[int], pool_size: int | None = None) -> list[int]:
    """``train_sizes`` as distinct integers of at least 2 and, given the pool's size, at most
    ``pool_size - 1`` (a cell is left to score), in the order given; a ``ValueError`` naming
    ``train_sizes`` otherwise."""
    try:
        sizes = [int(s) for s in train_sizes]
    except (TypeError, ValueError):
        raise ValueError(f"train_sizes: expected integers, got {train_sizes!r}") from None
    if not sizes:
        raise ValueError("train_sizes: none given")
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"train_sizes: {sizes} has a size twice")
    if min(sizes) < 2:
        raise ValueError(f"train_sizes: {min(sizes)} is below 2 (a regressor needs two cells)")
    if max(sizes) > checks.MAX_CELLS:
        raise ValueError(f"train_sizes: {max(sizes)} is above {checks.MAX_CELLS:,}")
    if pool_size is not None and max(sizes) > pool_size - 1:
        raise ValueError(
            f"train_sizes: {max(sizes)} is above {pool_size - 1} (the pool has {pool_size} "
            "cells and at least one must be left to score)"
        )
    return sizes


# ---------------------------------------------------------------------------------------------
# The benchmark on arrays


def predictor_benchmark(
    representations: Mapping[str, Features],
    rewards: np.ndarray,
    train_sizes: Sequence[int] = TRAIN_SIZES,
    seeds: int = 10,
    regressors: Sequence[str] | Mapping[str, Regressor] = tuple(REGRESSORS),
    seed: int = 0,
    top_fraction: float = TOP_FRACTION,
    progress: bool = False,
    predictors: Mapping[str, Predictor] | None = None,
    groups: np.ndarray | None = None,
) -> dict[str, Any]:
    """Every representation x regressor, trained on ``train_sizes`` cells, scored on the rest.

    ``predictors``: end-to-end predictors by name, each ``(train_idx, targets, seed) -> (n,)``
    predictions of every cell (e.g. :func:`~arch2vec.models.regressor.gin_predictions`), scored
    as the representation ``name`` with the regressor :data:`OWN`. ``groups`` ``(n,)``: ids of
    the network each cell builds (a space's function hashes,
    :meth:`~arch2vec.spaces.base.SearchSpace.functional`); given, every prediction is replaced by
    the mean prediction of the scored cells of its group (cells that build one network are
    ranked together).

    ``rewards`` ``(n,)``: the accuracy of each cell of the pool (finite). ``representations``
    maps a name to ``(n, d)`` features of those cells (row ``i``: cell ``i``), or to a callable
    ``(train_idx, seed) -> (n, d)`` features (learnt from the training cells, e.g. the
    supervised GIN; computed once per size and seed and shared by the regressors).
    ``regressors``: names in :data:`REGRESSORS`, or a mapping of names to :data:`Regressor`
    callables. For seed ``s`` in ``seed .. seed + seeds - 1`` the cells are permuted by
    ``numpy.random.default_rng(s)``; size ``m`` trains on the first ``m`` and scores the others
    (:func:`prediction_metrics`, ``top_fraction``). ``progress``: one tick per fit.

    Returns ``{"config", "results", "representation_seconds"}``: ``results[representation]
    [regressor][str(size)][metric]`` is ``{"mean", "std", "per_seed"}`` for each of
    :data:`METRICS` and ``"seconds"`` (the fit and prediction); ``representation_seconds
    [representation][str(size)]``: the seconds each seed spent computing a learnt
    representation (0 for fixed arrays).
    """
    y = np.asarray(rewards, dtype=np.float64)
    if y.ndim != 1 or len(y) < 3:
        raise ValueError(f"rewards: expected a 1-d array of at least 3 cells, got {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError("rewards: every cell of the pool needs a finite reward")
    n = len(y)
    sizes = check_train_sizes(train_sizes, n)
    if int(seeds) < 1:
        raise ValueError(f"seeds: expected at least 1, got {seeds}")
    seeds = int(seeds)
    if not 0 < top_fraction <= 1:
        raise ValueError(f"top_fraction: expected a fraction in (0, 1], got {top_fraction}")
    predictors = dict(predictors or {})
    if not representations and not predictors:
        raise ValueError("representations: none given")
    regs = _regressors(regressors)
    for name, feats in representations.items():
        if not callable(feats):
            _check_features(name, feats, n)
    clash = sorted(set(predictors) & set(representations))
    if clash:
        raise ValueError(f"predictors: {clash[0]!r} is also a representation")
    if groups is not None:
        groups = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
        if len(groups) != n:
            raise ValueError(f"groups: {len(groups)} ids for {n} cells")
    pairs = [(rep, reg) for rep in representations for reg in regs]
    pairs += [(name, OWN) for name in predictors]
    results: dict[str, Any] = {}
    for rep, reg in pairs:
        results.setdefault(rep, {})[reg] = {
            str(m): {k: [] for k in (*METRICS, "seconds")} for m in sizes
        }
    rep_seconds: dict[str, dict[str, list[float]]] = {
        rep: {str(m): [] for m in sizes} for rep in [*representations, *predictors]
    }
    bar = Progress(
        total=seeds * len(sizes) * len(pairs),
        desc=f"predictors: {n} cells",
        unit="fit",
        enabled=progress,
    )

    def score(rep: str, reg: str, s: int, m: int, test: np.ndarray, pred: Any, sec: float) -> None:
        pred = np.asarray(pred, dtype=np.float64)
        if pred.shape != test.shape:
            who = f"predictors: {rep!r}" if reg == OWN else f"regressors: {reg!r}"
            raise ValueError(f"{who} returned {pred.shape} predictions for {len(test)} cells")
        if groups is not None:
            g, count = groups[test], groups.max() + 1
            pred = (np.bincount(g, pred, count) / np.maximum(np.bincount(g, None, count), 1))[g]
        scores = prediction_metrics(y[test], pred, top_fraction)
        cell = results[rep][reg][str(m)]
        for k, v in scores.items():
            cell[k].append(v)
        cell["seconds"].append(sec)
        tau = scores["kendall_tau"]
        _log.debug("seed %d size %d %s/%s: tau %.3f (%.2f s)", s, m, rep, reg, tau, sec)
        bar.update(1)
        bar.note(size=m, last=f"{rep}/{reg} tau {scores['kendall_tau']:.3f}")

    try:
        for s in range(seed, seed + seeds):
            order = np.random.default_rng(s).permutation(n)
            for m in sizes:
                train, test = order[:m], np.sort(order[m:])
                for rep, feats in representations.items():
                    start = time.perf_counter()
                    x = feats if not callable(feats) else _check_features(rep, feats(train, s), n)
                    rep_seconds[rep][str(m)].append(time.perf_counter() - start)
                    for reg, fit in regs.items():
                        start = time.perf_counter()
                        pred = fit(x, train, y[train], test, s)
                        score(rep, reg, s, m, test, pred, time.perf_counter() - start)
                for name, predict in predictors.items():
                    start = time.perf_counter()
                    pred = np.asarray(predict(train, y[train], s), dtype=np.float64)
                    if pred.shape != (n,):
                        raise ValueError(
                            f"predictors: {name!r} returned {pred.shape} predictions for {n} cells"
                        )
                    rep_seconds[name][str(m)].append(0.0)
                    score(name, OWN, s, m, test, pred[test], time.perf_counter() - start)
    except BaseException:
        bar.close(failed=True)
        raise
    bar.close()
    summary = {
        rep: {
            reg: {size: {k: _summarise(v) for k, v in per.items()} for size, per in by_size.items()}
            for reg, by_size in by_reg.items()
        }
        for rep, by_reg in results.items()
    }
    config = {
        "train_sizes": sizes,
        "seeds": seeds,
        "seed": int(seed),
        "seed_values": list(range(seed, seed + seeds)),
        "pool_size": n,
        "top_fraction": float(top_fraction),
        "representations": list(representations),
        "regressors": list(regs),
        "predictors": list(predictors),
        "functional_groups": None if groups is None else int(groups.max() + 1),
        "metrics": list(METRICS),
    }
    return {"config": config, "results": summary, "representation_seconds": rep_seconds}


def _check_features(name: str, feats: Any, n: int) -> np.ndarray:
    x = np.asarray(feats)
    if x.ndim != 2 or len(x) != n:
        raise ValueError(
            f"representations: {name!r} has shape {x.shape}, expected ({n}, d) (one row per cell)"
        )
    if not np.isfinite(x).all():
        raise ValueError(f"representations: {name!r} has non-finite features")
    return x


def _summarise(values: list[float]) -> dict[str, Any]:
    """Mean and sample std over the seeds where the metric is defined; ``undefined`` counts the
    others (a constant prediction has no rank correlation: NaN in ``per_seed``)."""
    a = np.asarray(values, dtype=np.float64)
    finite = a[np.isfinite(a)]
    return {
        "mean": float(finite.mean()) if len(finite) else float("nan"),
        "std": sample_std(finite),
        "undefined": int(len(a) - len(finite)),
        "per_seed": list(values),
    }


# ---------------------------------------------------------------------------------------------
# Plot


def predictors_figure(result: dict[str, Any], title: str = "", metric: str = "kendall_tau"):
    """``metric`` (mean over seeds, +- std as a band) against the training size on a log2 axis,
    one line per representation x regressor (colour: representation; line style: regressor).
    The caller closes the figure."""
    from arch2vec.analysis.plots import pyplot

    plt = pyplot()
    config, results = result["config"], result["results"]
    seeds = int(config["seeds"])
    sizes = np.asarray(config["train_sizes"], dtype=np.float64)
    order = np.argsort(sizes)
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "D", "v", "P"]
    fig, ax = plt.subplots(figsize=(8.6, 5.0), dpi=120)
    for i, (rep, by_reg) in enumerate(results.items()):
        for j, (reg, by_size) in enumerate(by_reg.items()):
            keys = [str(int(s)) for s in sizes[order]]
            mean = np.array([by_size[k][metric]["mean"] for k in keys], dtype=np.float64)
            std = np.array([by_size[k][metric]["std"] for k in keys], dtype=np.float64)
            colour = f"C{i % 10}"
            ax.plot(
                sizes[order],
                mean,
                color=colour,
                linestyle=styles[j % len(styles)],
                marker=markers[j % len(markers)],
                markersize=3.5,
                label=f"{rep} · {reg}",
            )
            ax.fill_between(sizes[order], mean - std, mean + std, color=colour, alpha=0.06, lw=0)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes[order])
    ax.set_xticklabels([str(int(s)) for s in sizes[order]])
    ax.set_xlabel("training cells")
    label = METRIC_LABELS.get(metric, metric).format(top=f"{100 * config['top_fraction']:g}")
    ax.set_ylabel(f"{label} on the cells not trained on")
    ax.grid(alpha=0.3)
    ax.legend(
        title=f"representation · regressor\n(mean ± std, {seeds} seed{'s' * (seeds != 1)})",
        fontsize=7,
        title_fontsize=7,
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
    )
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_predictors(
    result: dict[str, Any], out_png: str | Path, title: str = "", metric: str = "kendall_tau"
) -> Path:
    """Write :func:`predictors_figure` as a PNG (atomically)."""
    from arch2vec.analysis.plots import pyplot, save_figure

    fig = predictors_figure(result, title, metric)
    try:
        return save_figure(fig, out_png)
    finally:
        pyplot().close(fig)


# ---------------------------------------------------------------------------------------------
# The whole analysis on a benchmark


def embeddings_by_name(
    embeddings: Sequence[str | Path] | Mapping[str, str | Path] | None,
) -> dict[str, Path]:
    """Name the embeddings files: a mapping is taken as it is; a ``"NAME=PATH"`` string (where
    ``NAME`` has no ``/`` and the whole string is no existing path) is named ``NAME``; any other
    path by its run directory (a directory's name; for a file ``embeddings.npz``, its
    folder's name; for another file, its stem). Names must be distinct and not among
    :data:`INCLUDE`."""
    if embeddings is None:
        return {}
    if isinstance(embeddings, Mapping):
        named = {str(k): Path(v) for k, v in embeddings.items()}
    else:
        named = {}
        for item in embeddings:
            text = str(item)
            name, sep, rest = text.partition("=")
            if sep and name and rest and "/" not in name and not Path(text).exists():
                path = Path(rest)
            else:
                path = Path(text)
                name = path.name
                if path.suffix.lower() == ".npz":
                    name = path.parent.name if path.stem == "embeddings" else path.stem
                name = name or str(path)
            if name in named:
                raise ValueError(f"embeddings: two are named {name!r}; name them with NAME=PATH")
            named[name] = path
    clash = [n for n in named if n in INCLUDE or not n or "+" in n]
    if clash:
        raise ValueError(f"embeddings: the name {clash[0]!r} is taken; choose another (NAME=PATH)")
    return named


def run_predictors(
    embeddings: Sequence[str | Path] | Mapping[str, str | Path] | None,
    benchmark: str | Benchmark,
    out_dir: str | Path,
    train_sizes: Sequence[int] = TRAIN_SIZES,
    seeds: int = 10,
    regressors: Sequence[str] = tuple(REGRESSORS),
    include: Sequence[str] = INCLUDE,
    seed: int = 0,
    top_fraction: float = TOP_FRACTION,
    dataset: str | None = None,
    file: str | Path | None = None,
    data_dir: str | Path | None = None,
    columns: dict[str, str] | None = None,
    supervised_options: dict[str, Any] | None = None,
    threads: int | None = 1,
    progress: bool = False,
    functional: bool = False,
    ensemble_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The predictor benchmark on a benchmark's pool: write ``out_dir/predictors.json`` and
    ``out_dir/predictors.png`` (Kendall tau against training size) and return the JSON's content.

    ``embeddings``: pre-training run directories or ``.npz`` files of ``arch2vec embed``, named
    by :func:`embeddings_by_name` (all of one space); ``include``: the other representations
    (``flat``, ``path``, ``supervised``; see the module's docstring); ``benchmark`` (a name,
    or a loaded Benchmark), ``dataset``, ``file``, ``data_dir``, ``columns`` as in
    :func:`arch2vec.benchmarks.load`. The
    target is the benchmark's validation accuracy (its search reward where it has none; percent)
    on the pool cells that have one. ``supervised_options`` go to
    :func:`~arch2vec.models.regressor.supervised_embedding` and ``ensemble_options`` to
    :func:`~arch2vec.models.regressor.gin_predictions`. ``functional``: the cells in the form of
    the networks they build (:meth:`~arch2vec.spaces.base.SearchSpace.functional`): the flat,
    path and GIN representations read the canonical cells, and every prediction is averaged over
    the scored cells that build one network (NB-201: 8,765 networks among 15,625 cells; the
    other built-in spaces store cells as their networks). ``threads`` caps the BLAS, OpenMP
    (scikit-learn) and torch threads (None: leave them). See :func:`predictor_benchmark` for the
    protocol and the result. One process owns ``out_dir`` while it runs
    (:class:`arch2vec.io.DirectoryLock`).
    """
    from arch2vec import __version__, benchmarks, io, spaces
    from arch2vec.models.run import load_embeddings
    from arch2vec.spaces.paths import cut_ops, path_encoding

    named = embeddings_by_name(embeddings)
    include = tuple(include)
    unknown = [n for n in include if n not in INCLUDE + OPTIONAL]
    if unknown or len(set(include)) != len(include):
        raise ValueError(f"include: expected distinct names among {', '.join(INCLUDE + OPTIONAL)}")
    if not named and not include:
        raise ValueError("embeddings, include: no representation to benchmark")
    _regressors(regressors)
    if not 0 < top_fraction <= 1:
        raise ValueError(f"top_fraction: expected a fraction in (0, 1], got {top_fraction}")
    checks.integer("seeds", seeds, 1, checks.MAX_SEEDS)
    checks.seed(seed)
    if threads is not None:
        checks.threads(threads)
    check_train_sizes(train_sizes)  # the pool's bound is checked once it is known
    out_dir = Path(out_dir)
    with io.DirectoryLock(out_dir, "analysis directory"):
        loaded = {name: load_embeddings(path) for name, path in named.items()}
        space = next(iter(loaded.values())).load_space(data_dir) if loaded else None
        bench = benchmarks.load(benchmark, dataset, file, data_dir, space=space, columns=columns)
        space = space or spaces.get(bench.space, data_dir=data_dir)
        cells = space.all()
        if len(cells) != len(bench.search):
            raise ValueError(
                f"benchmark {bench.name}: {len(bench.search)} cells, space {len(cells)}"
            )
        accuracy = bench.valid if np.isfinite(bench.valid).any() else bench.search
        pool = bench.pool[np.isfinite(accuracy[bench.pool])]
        check_train_sizes(train_sizes, len(pool))
        features: dict[str, Features] = {
            name: emb.check_space(space, str(named[name]))[pool] for name, emb in loaded.items()
        }
        groups = None
        if functional:
            cells, function_hashes = space.functional(cells)
            groups = function_hashes[pool]
        pool_cells = cells[pool]
        paths = None
        if "flat" in include:
            features["flat"] = flat_encoding(pool_cells, len(space.ops))
        if "path" in include:
            features["path"], paths = path_encoding(pool_cells, len(space.ops), cut_ops(space.ops))
        if "supervised" in include:
            features["supervised"] = _supervised(
                space, cells, pool, accuracy, dict(supervised_options or {})
            )
        wanted = [w for w in ("finetuned", "ensemble") if w in include]
        encoders = _arch2vec_encoders(named) if wanted else {}
        if wanted and not encoders:
            raise ValueError(
                f"include: {wanted[0]!r} needs an arch2vec pre-training run among the embeddings"
            )
        predictors: dict[str, Predictor] = {}
        for name, state in encoders.items():
            if "finetuned" in include:
                options = {**dict(supervised_options or {}), "init_encoder": state}
                features[f"{name}+finetuned"] = _supervised(space, cells, pool, accuracy, options)
            if "ensemble" in include:
                options = {**dict(ensemble_options or {}), "init_encoder": state}
                predictors[f"{name}+ensemble"] = _ensemble(space, cells, pool, options)
        start = time.perf_counter()
        with thread_counts.limited(threads) if threads is not None else nullcontext():
            result = predictor_benchmark(
                features,
                accuracy[pool],
                train_sizes,
                seeds,
                regressors,
                seed,
                top_fraction,
                progress,
                predictors,
                groups,
            )
        wall = time.perf_counter() - start
        summary = {
            "arch2vec": __version__,
            "benchmark": bench.name,
            "dataset": bench.dataset,
            "space": bench.space,
            "source": bench.source,
            "file": None if file is None else str(file),
            "target": "valid" if accuracy is bench.valid else "search",
            "embeddings": {name: str(path) for name, path in named.items()},
            "config": {
                **result["config"],
                "include": list(include),
                "threads": threads,
                "supervised_options": dict(supervised_options or {}),
                "ensemble_options": dict(ensemble_options or {}),
                "functional": bool(functional),
                "feature_dims": {
                    name: int(np.shape(f)[1]) for name, f in features.items() if not callable(f)
                },
                "paths": None if paths is None else len(paths),
            },
            "results": result["results"],
            "representation_seconds": result["representation_seconds"],
            "seconds": wall,
        }
        title = (
            f"{bench.name} {bench.dataset} ({len(pool):,} cells, target: "
            f"{summary['target']} accuracy)"
        )
        plot_predictors(result, out_dir / "predictors.png", title=title)
        summary = jsonable(summary)
        io.atomic_write_json(out_dir / "predictors.json", summary)
    return summary


def _arch2vec_encoders(named: Mapping[str, Path]) -> dict[str, Any]:
    """The encoder state of each embeddings given as an arch2vec (GIN) pre-training run."""
    from arch2vec.models.run import load_run, read_config

    out = {}
    for name, path in named.items():
        if not (path.is_dir() and (path / "checkpoint.pt").is_file()):
            continue
        if read_config(path).model != "arch2vec":
            continue
        out[name] = load_run(path)[2].encoder.state_dict()
    return out


def _supervised(
    space: Any, cells: Any, pool: np.ndarray, accuracy: np.ndarray, options: dict[str, Any]
) -> Callable[[np.ndarray, int], np.ndarray]:
    """The supervised GIN representation of the pool cells, learnt from the training cells
    (positions in the pool)."""
    from arch2vec.models.regressor import supervised_embedding

    def supervised(train: np.ndarray, s: int) -> np.ndarray:
        idx = pool[train]
        return supervised_embedding(space, cells, idx, accuracy[idx], s, indices=pool, **options)

    return supervised


def _ensemble(space: Any, cells: Any, pool: np.ndarray, options: dict[str, Any]) -> Predictor:
    """The fine-tuned GIN ensemble's predictions of the pool cells, learnt from the training
    cells (positions in the pool)."""
    from arch2vec.models.regressor import gin_predictions

    def ensemble(train: np.ndarray, targets: np.ndarray, s: int) -> np.ndarray:
        return gin_predictions(space, cells, pool[train], targets, s, indices=pool, **options)

    return ensemble


def table_rows(summary: dict[str, Any], metric: str = "kendall_tau") -> list[dict[str, Any]]:
    """One row per representation x regressor: ``{"representation", "regressor", size: (mean,
    std), ...}`` of ``metric``, for printing."""
    rows = []
    for rep, by_reg in summary["results"].items():
        for reg, by_size in by_reg.items():
            row: dict[str, Any] = {"representation": rep, "regressor": reg}
            for size, per in by_size.items():
                row[size] = (per[metric]["mean"], per[metric]["std"])
            rows.append(row)
    return rows
