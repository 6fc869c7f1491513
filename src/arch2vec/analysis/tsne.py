"""A 2-D t-SNE map of cell embeddings coloured by accuracy (the paper's Figure 4).

``tsne_map`` samples cells that have an accuracy and embeds them with openTSNE (gradients by
FFT-accelerated interpolation from 10,000 cells, Barnes-Hut below; PCA initialisation, exact
nearest neighbours up to 20,000 cells: deterministic for a seed); ``plot_tsne`` draws the map as
a PNG; ``run_tsne`` does both for a pre-training run (or an embeddings ``.npz``) and a benchmark
and writes ``tsne.json`` and ``tsne.png``.

Why openTSNE and 500 iterations (250 of early exaggeration, 250 more): on 10,000 NB-201 cells it
is ~10x faster than scikit-learn's Barnes-Hut t-SNE at 1,000 iterations, with the same
trustworthiness (``python perf/bench_tsne.py`` measures both in one run; BENCHMARKS.md).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import __version__, benchmarks, io
from arch2vec.analysis.plots import pyplot, save_figure
from arch2vec.benchmarks.base import Benchmark
from arch2vec.progress import Progress

MAX_PERPLEXITY = 10_000.0

EARLY_EXAGGERATION_ITER = 250  # openTSNE's default: 250 iterations at exaggeration 12
EXACT_NEIGHBOURS_UP_TO = 20_000  # cells; above, approximate neighbours (Annoy)
FFT_FROM = 10_000  # cells; below, Barnes-Hut gradients are faster (openTSNE's own rule)


def _opentsne():
    try:
        import openTSNE
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("the t-SNE map needs openTSNE: pip install 'openTSNE>=1.0'") from None
    return openTSNE


def tsne_map(
    embeddings: np.ndarray,
    accuracy: np.ndarray,
    pool: np.ndarray | None = None,
    n: int = 10_000,
    seed: int = 0,
    perplexity: float = 30.0,
    max_iter: int = 500,
    n_jobs: int = 1,
    progress: bool | None = None,
) -> dict[str, Any]:
    """t-SNE of ``n`` cells drawn (without replacement, by ``seed``) from ``pool``.

    ``embeddings`` is ``(num_cells, d)`` and ``accuracy`` ``(num_cells,)``, both by pool index;
    ``pool`` lists the cells that may be drawn (default: all), of which only those with a finite
    accuracy are kept. ``max_iter`` counts every iteration, the first
    ``min(250, max_iter // 2)`` with early exaggeration (12); ``n_jobs`` threads (the map
    differs with their number only by rounding). ``progress`` shows the iterations (None: on a
    terminal, see :class:`~arch2vec.progress.Progress`). Returns ``indices`` (sorted pool indices,
    ``(m,)``), ``coords`` (``(m, 2)``), ``accuracy`` (``(m,)``), ``kl_divergence``, ``seconds``
    and ``config``.
    """
    embeddings = np.asarray(embeddings, dtype=np.float64)
    accuracy = np.asarray(accuracy, dtype=np.float64)
    if embeddings.ndim != 2 or accuracy.shape != (len(embeddings),):
        raise ValueError(
            f"embeddings {embeddings.shape} and accuracy {accuracy.shape} do not match: "
            "want (num_cells, d) and (num_cells,)"
        )
    if not np.isfinite(embeddings).all():
        raise ValueError("embeddings hold NaN or infinite values")
    pool = np.arange(len(embeddings)) if pool is None else np.asarray(pool, dtype=np.int64)
    pool = pool[np.isfinite(accuracy[pool])]
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if max_iter < 2:
        raise ValueError(f"max_iter must be at least 2, got {max_iter}")
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be at least 1, got {n_jobs}")
    m = min(n, len(pool))
    if m <= perplexity:
        raise ValueError(
            f"t-SNE of {m} cells needs a perplexity below {m}, got {perplexity} "
            "(draw more cells or lower the perplexity)"
        )
    # each cell's affinities span its 3 * perplexity nearest neighbours: fewer cells than that
    # lower the perplexity used (openTSNE would, with a warning)
    used = min(float(perplexity), (m - 1) / 3.0)
    rng = np.random.default_rng(seed)
    indices = np.sort(rng.choice(pool, size=m, replace=False))
    ot = _opentsne()
    early = min(EARLY_EXAGGERATION_ITER, max_iter // 2)
    method = "exact" if m <= EXACT_NEIGHBOURS_UP_TO else "annoy"
    gradient = "fft" if m >= FFT_FROM else "bh"
    x = embeddings[indices]
    start = time.perf_counter()
    shown = sys.stderr.isatty() if progress is None else bool(progress)  # None: on a terminal
    with Progress(max_iter, "t-SNE", unit="iteration", enabled=shown) as bar:
        affinities = ot.affinity.PerplexityBasedNN(
            x, perplexity=used, method=method, n_jobs=n_jobs, random_state=seed
        )
        init = ot.initialization.pca(x, random_state=seed)
        embedding = ot.TSNEEmbedding(
            init, affinities, n_jobs=n_jobs, negative_gradient_method=gradient, random_state=seed
        )
        done = 0

        def tick(iteration: int, error: float, _embedding: Any) -> None:
            nonlocal done
            bar.update(iteration - done)
            done = iteration

        for iters, exaggeration in ((early, 12.0), (max_iter - early, None)):
            done = 0
            embedding = embedding.optimize(
                n_iter=iters,
                exaggeration=exaggeration,
                learning_rate="auto",  # cells / exaggeration
                momentum=0.8,  # openTSNE's, in both phases
                callbacks=tick,
                callbacks_every_iters=25,
            )
            bar.update(iters - done)
    seconds = time.perf_counter() - start
    return {
        "indices": indices,
        "coords": np.asarray(embedding, dtype=np.float64),
        "accuracy": accuracy[indices],
        "kl_divergence": float(embedding.kl_divergence),
        "seconds": seconds,
        "config": {
            "n": int(m),
            "seed": seed,
            "perplexity": perplexity,
            "perplexity_used": used,
            "max_iter": max_iter,
            "early_exaggeration_iter": early,
            "init": "pca",
            "method": f"opentsne-{gradient}",
            "neighbours": method,
        },
    }


def plot_tsne(
    result: dict[str, Any],
    out_png: str | Path,
    title: str = "",
    label: str = "validation accuracy (%)",
    low_percentile: float = 5.0,
) -> Path:
    """Scatter of ``result["coords"]`` coloured by ``result["accuracy"]`` with a colour bar.

    The colour scale starts at the ``low_percentile`` percentile of the accuracies (cells below
    share the lowest colour; the bar is drawn with an arrow), so the few very poor cells of a
    benchmark do not flatten the scale; the best cells are drawn last, on top.
    """
    plt = pyplot()
    coords = np.asarray(result["coords"], dtype=np.float64)
    acc = np.asarray(result["accuracy"], dtype=np.float64)
    order = np.argsort(acc, kind="stable")
    vmin = float(np.percentile(acc, low_percentile)) if len(acc) else None
    fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=120)
    try:
        points = ax.scatter(
            coords[order, 0],
            coords[order, 1],
            c=acc[order],
            s=3,
            cmap="viridis",
            vmin=vmin,
            linewidths=0,
        )
        bar = fig.colorbar(points, ax=ax, extend="min" if low_percentile > 0 else "neither")
        bar.set_label(label)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title)
        fig.tight_layout()
        return save_figure(fig, out_png)
    finally:
        plt.close(fig)


def run_tsne(
    embeddings: str | Path,
    benchmark: str | Benchmark = "nb201",
    out_dir: str | Path = ".",
    n: int = 10_000,
    seed: int = 0,
    perplexity: float = 30.0,
    dataset: str | None = None,
    file: str | Path | None = None,
    data_dir: str | Path | None = None,
    max_iter: int = 500,
    columns: dict[str, str] | None = None,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """t-SNE map of the embeddings of a pre-training run dir (or an ``embeddings.npz``) for the
    cells ``benchmark`` covers, coloured by its validation accuracy (or search reward): writes
    ``tsne.json`` (indices, coordinates, accuracies, config, version) and ``tsne.png`` into
    ``out_dir`` and returns the JSON's content."""
    from arch2vec import checks
    from arch2vec.models.run import load_embeddings

    checks.integer("n", n, 2, checks.MAX_CELLS)
    checks.seed(seed)
    checks.number("perplexity", perplexity, 0, MAX_PERPLEXITY, lo_open=True)
    checks.integer("max_iter", max_iter, 1, 100_000)
    checks.threads(n_jobs, "n_jobs")
    embedded = load_embeddings(embeddings)
    space = embedded.load_space(data_dir)
    bench = benchmarks.load(benchmark, dataset, file, data_dir, space=space, columns=columns)
    accuracy = bench.valid if np.isfinite(bench.valid).any() else bench.search
    emb = embedded.check_space(space, str(embeddings))
    result = tsne_map(
        emb,
        accuracy,
        bench.pool,
        n=n,
        seed=seed,
        perplexity=perplexity,
        max_iter=max_iter,
        n_jobs=n_jobs,
    )
    out_dir = Path(out_dir)
    doc = {
        "arch2vec": __version__,
        "config": {
            **result["config"],
            "embeddings": str(embeddings),
            "benchmark": bench.name,
            "dataset": bench.dataset,
            "file": None if file is None else str(file),
            "space": bench.space,
            "colour": "valid",
        },
        "kl_divergence": round(result["kl_divergence"], 6),
        "seconds": round(result["seconds"], 2),
        "indices": result["indices"].tolist(),
        "coords": np.round(result["coords"], 5).tolist(),
        "accuracy": [round(float(a), 6) for a in result["accuracy"]],
    }
    io.atomic_write_json(out_dir / "tsne.json", doc)
    plot_tsne(
        result,
        out_dir / "tsne.png",
        title=f"t-SNE of {len(result['indices'])} {bench.space} cells ({bench.name}, "
        f"{bench.dataset})",
    )
    return doc
