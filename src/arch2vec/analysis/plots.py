"""Plots of search experiments (PNG via matplotlib's Agg backend; no display needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def load_runs(exp_dir: str | Path) -> list[dict]:
    path = Path(exp_dir) / "runs.jsonl"
    if not path.is_file():
        raise ValueError(f"{exp_dir}: no runs.jsonl (not a search experiment directory)")
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def regret_by_query(rows: list[dict], optimum: float, key: str = "best_valid") -> np.ndarray:
    """``(runs, Q)`` regret (optimum - best so far) after each query; runs that stopped early
    keep their last value."""
    length = max(len(r[key]) for r in rows)
    out = np.full((len(rows), length), np.nan)
    for k, r in enumerate(rows):
        values = np.array([np.nan if v is None else v for v in r[key]], dtype=np.float64)
        out[k, : len(values)] = optimum - values
        if len(values):
            out[k, len(values) :] = optimum - values[-1]
    return out


def plot_regret(
    experiments: dict[str, str | Path],
    optimum: float,
    out: str | Path,
    key: str = "best_valid",
    title: str = "",
) -> Path:
    """Mean regret (with a 95% band of the mean) against queries, one line per experiment."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for label, exp_dir in experiments.items():
        regret = regret_by_query(load_runs(exp_dir), optimum, key)
        mean = np.nanmean(regret, axis=0)
        sem = np.nanstd(regret, axis=0) / np.sqrt(max(1, regret.shape[0]))
        x = np.arange(1, len(mean) + 1)
        ax.plot(x, mean, label=label)
        ax.fill_between(x, mean - 1.96 * sem, mean + 1.96 * sem, alpha=0.2)
    ax.set_xlabel("queries")
    ax.set_ylabel("regret of the validation accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
