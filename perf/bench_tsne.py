"""Benchmark ``analyze tsne``: openTSNE as arch2vec runs it against scikit-learn's Barnes-Hut.

Usage::

    python perf/bench_tsne.py [--embeddings RUN_OR_NPZ] [--n 10000] [--skip-baseline]

Embeds the same ``--n`` NB-201 cells (drawn by seed 0) twice: with
:func:`arch2vec.analysis.tsne.tsne_map` (openTSNE, FFT gradients, 250 + 250 iterations, one
thread) and with what it replaced, scikit-learn's ``TSNE`` (Barnes-Hut, PCA initialisation,
1,000 iterations). The embeddings are a pre-training run's (``--embeddings``) or, without one,
a fixed random projection of each cell's flat encoding to 16 dimensions. Prints one JSON line:
the seconds of each, their ratio, the trustworthiness of each map (scikit-learn's, 10
neighbours, over all the cells: 1 means every map neighbour is an input-space neighbour) and,
as a same-run reference for the machine, int64 elements sorted per second by NumPy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread for both, before NumPy loads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from reference import numpy_sort_per_second  # noqa: E402


def features(embeddings: str | None) -> np.ndarray:
    from arch2vec import spaces

    if embeddings:
        from arch2vec.models.run import load_embeddings

        embedded = load_embeddings(embeddings)
        return embedded.check_space(embedded.load_space(None), embeddings)
    from arch2vec.analysis.predictive import flat_encoding

    space = spaces.get("nb201")
    flat = flat_encoding(space.all(), len(space.ops)).astype(np.float64)
    return flat @ np.random.default_rng(0).normal(size=(flat.shape[1], 16))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings", help="a pre-training run dir or embeddings .npz")
    parser.add_argument("--n", type=int, default=10_000, help="cells (default: 10000)")
    parser.add_argument("--skip-baseline", action="store_true", help="openTSNE only")
    args = parser.parse_args()
    from sklearn.manifold import TSNE, trustworthiness

    from arch2vec.analysis.tsne import tsne_map

    x = np.asarray(features(args.embeddings), dtype=np.float64)
    sort_rate = numpy_sort_per_second()
    new = tsne_map(x, np.ones(len(x)), n=args.n, seed=0, progress=False)
    sample = x[new["indices"]]
    line = {
        "bench": "tsne",
        "cells": len(sample),
        "seconds": round(new["seconds"], 2),
        "trustworthiness": round(float(trustworthiness(sample, new["coords"], n_neighbors=10)), 4),
    }
    if not args.skip_baseline:
        start = time.perf_counter()
        old = TSNE(
            2, perplexity=30.0, init="pca", learning_rate="auto", random_state=0, max_iter=1000
        ).fit_transform(sample)
        seconds = time.perf_counter() - start
        line["baseline"] = "scikit-learn Barnes-Hut, 1000 iterations"
        line["baseline_seconds"] = round(seconds, 2)
        line["speedup"] = round(seconds / new["seconds"], 2)
        line["baseline_trustworthiness"] = round(
            float(trustworthiness(sample, old, n_neighbors=10)), 4
        )
    line["reference_sort_per_s"] = round(sort_rate)
    line["seconds_in_sorted_elements"] = round(new["seconds"] * sort_rate)
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
