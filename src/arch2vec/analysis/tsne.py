"""A 2-D t-SNE map of cell embeddings coloured by accuracy (the paper's Figure 4).

``tsne_map`` samples cells that have an accuracy and embeds them with scikit-learn's Barnes-Hut
t-SNE (PCA initialisation, deterministic for a seed); ``plot_tsne`` draws the map as a PNG;
``run_tsne`` does both for a pre-training run (or an embeddings ``.npz``) and a benchmark and writes
``tsne.json`` and ``tsne.png``.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import __version__, benchmarks, io
from arch2vec.analysis.plots import pyplot, save_figure


def _tsne_class():
    try:
        from sklearn.manifold import TSNE
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the t-SNE map needs scikit-learn: pip install 'scikit-learn>=1.2'"
        ) from None
    return TSNE


def tsne_map(
    embeddings: np.ndarray,
    accuracy: np.ndarray,
    pool: np.ndarray | None = None,
    n: int = 10_000,
    seed: int = 0,
    perplexity: float = 30.0,
    max_iter: int = 1000,
) -> dict[str, Any]:
    """t-SNE of ``n`` cells drawn (without replacement, by ``seed``) from ``pool``.

    ``embeddings`` is ``(num_cells, d)`` and ``accuracy`` ``(num_cells,)``, both by pool index;
    ``pool`` lists the cells that may be drawn (default: all), of which only those with a finite
    accuracy are kept. Returns ``indices`` (sorted pool indices, ``(m,)``), ``coords``
    (``(m, 2)``), ``accuracy`` (``(m,)``), ``kl_divergence``, ``seconds`` and ``config``.
    """
    embeddings = np.asarray(embeddings, dtype=np.float64)
    accuracy = np.asarray(accuracy, dtype=np.float64)
    if embeddings.ndim != 2 or accuracy.shape != (len(embeddings),):
        raise ValueError(
            f"embeddings {embeddings.shape} and accuracy {accuracy.shape} do not match: "
            "want (num_cells, d) and (num_cells,)"
        )
    pool = np.arange(len(embeddings)) if pool is None else np.asarray(pool, dtype=np.int64)
    pool = pool[np.isfinite(accuracy[pool])]
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    m = min(n, len(pool))
    if m <= perplexity:
        raise ValueError(
            f"t-SNE of {m} cells needs a perplexity below {m}, got {perplexity} "
            "(draw more cells or lower the perplexity)"
        )
    rng = np.random.default_rng(seed)
    indices = np.sort(rng.choice(pool, size=m, replace=False))
    TSNE = _tsne_class()
    iters = "max_iter" if "max_iter" in inspect.signature(TSNE).parameters else "n_iter"
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        learning_rate="auto",
        random_state=seed,
        **{iters: max_iter},
    )
    start = time.perf_counter()
    coords = tsne.fit_transform(embeddings[indices])
    seconds = time.perf_counter() - start
    return {
        "indices": indices,
        "coords": coords,
        "accuracy": accuracy[indices],
        "kl_divergence": float(tsne.kl_divergence_),
        "seconds": seconds,
        "config": {
            "n": int(m),
            "seed": seed,
            "perplexity": perplexity,
            "max_iter": max_iter,
            "init": "pca",
            "method": "barnes_hut",
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
    benchmark: str = "nb201",
    out_dir: str | Path = ".",
    n: int = 10_000,
    seed: int = 0,
    perplexity: float = 30.0,
    dataset: str | None = None,
    file: str | Path | None = None,
    data_dir: str | Path | None = None,
    max_iter: int = 1000,
    columns: dict[str, str] | None = None,
) -> dict[str, Any]:
    """t-SNE map of the embeddings of a pre-training run dir (or an ``embeddings.npz``) for the
    cells ``benchmark`` covers, coloured by its validation accuracy (or search reward): writes
    ``tsne.json`` (indices, coordinates, accuracies, config, version) and ``tsne.png`` into
    ``out_dir`` and returns the JSON's content."""
    from arch2vec.models.run import load_embeddings

    embedded = load_embeddings(embeddings)
    space = embedded.load_space(data_dir)
    bench = benchmarks.load(benchmark, dataset, file, data_dir, space=space, columns=columns)
    accuracy = bench.valid if np.isfinite(bench.valid).any() else bench.search
    emb = embedded.check_space(space, str(embeddings))
    result = tsne_map(emb, accuracy, bench.pool, n, seed, perplexity, max_iter)
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
