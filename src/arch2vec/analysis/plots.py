"""Curves and plots of search experiments (PNG via matplotlib's Agg backend; no display needed).

A run's *regret* after a query is the benchmark optimum minus the accuracy of the best cell found
so far (``best_valid``, or ``best_reward`` against the search optimum where a benchmark has no
validation accuracy). Against queries, a run that stopped early keeps its last value; against
simulated wall-clock, a run's regret is a step function of its cumulative cost: at time ``t`` it is
the regret after the last query whose result was known by ``t`` (undefined before its first one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from arch2vec.search.record import read_runs

Z95 = 1.959963984540054  # two-sided 95% quantile of the normal distribution


def _values(row: dict, key: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in row[key]], dtype=np.float64)


def regret_by_query(rows: list[dict], optimum: float, key: str = "best_valid") -> np.ndarray:
    """``(runs, Q)`` regret (optimum - best so far) after each query; runs that stopped early
    keep their last value."""
    length = max(len(r[key]) for r in rows)
    out = np.full((len(rows), length), np.nan)
    for k, r in enumerate(rows):
        values = _values(r, key)
        out[k, : len(values)] = optimum - values
        if len(values):
            out[k, len(values) :] = optimum - values[-1]
    return out


def regret_by_time(
    rows: list[dict], optimum: float, grid: np.ndarray, key: str = "best_valid"
) -> np.ndarray:
    """``(runs, len(grid))`` regret at each time of ``grid`` (simulated seconds): that after the
    last query with ``cost <= t``; NaN before a run's first query."""
    grid = np.asarray(grid, dtype=np.float64)
    out = np.full((len(rows), len(grid)), np.nan)
    for k, r in enumerate(rows):
        cost = _values(r, "cost")
        if len(cost) == 0:
            continue
        last = np.searchsorted(cost, grid, side="right") - 1
        known = last >= 0
        out[k, known] = optimum - _values(r, key)[last[known]]
    return out


def fixed(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, never "-0.00" (a regret of -1e-9 is no regret)."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def final_regret(rows: list[dict], optimum: float, key: str = "best_valid") -> np.ndarray:
    """``(runs,)`` regret after each run's last query (NaN for a run without any)."""
    return np.array(
        [optimum - _values(r, key)[-1] if len(r[key]) else np.nan for r in rows],
        dtype=np.float64,
    )


def mean_band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean of ``(runs, points)`` ``values`` over the runs defined there (NaN
    ignored), and a 95% normal confidence band of that mean (mean ± 1.96 standard errors, the
    standard deviation with ``ddof=1``; a single run gives a band of zero width). Returns
    ``(mean, low, high, count)``."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    count = np.sum(~np.isnan(values), axis=0)
    mean = np.full(values.shape[1], np.nan)
    half = np.zeros(values.shape[1])
    some = count > 0
    mean[some] = np.nanmean(values[:, some], axis=0)
    many = count > 1
    if many.any():
        std = np.nanstd(values[:, many], axis=0, ddof=1)
        half[many] = Z95 * std / np.sqrt(count[many])
    half[~some] = np.nan
    return mean, mean - half, mean + half, count


def ecdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF of the finite ``values``: sorted values ``x`` and ``y = (1..n) / n``, the
    fraction of values ``<= x``."""
    x = np.sort(np.asarray(values, dtype=np.float64)[np.isfinite(values)])
    return x, np.arange(1, len(x) + 1) / max(1, len(x))


def log_grid(rows_sets: list[list[dict]], points: int = 200) -> np.ndarray:
    """A log-spaced time grid common to several experiments: from the latest first-query time of
    any run (so every run is defined on the whole grid) to the latest cost of any run."""
    first, last = [], []
    for rows in rows_sets:
        for r in rows:
            cost = [c for c in r["cost"] if c is not None]
            if cost:
                first.append(cost[0])
                last.append(cost[-1])
    if not first:
        raise ValueError("no run made any query: nothing to plot against time")
    lo, hi = max(max(first), 1e-9), max(last)
    if hi <= lo:
        return np.array([lo])
    return np.geomspace(lo, hi, points)


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed); the analysis modules' plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, out: str | Path) -> Path:
    """Write ``fig`` as a PNG to ``out`` atomically (a killed run leaves no half-written file),
    creating the folder; the caller closes the figure."""
    from io import BytesIO

    from arch2vec import io

    buf = BytesIO()
    fig.savefig(buf, format="png")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    io.atomic_write_bytes(out, buf.getvalue())
    return out


def curves_figure(
    curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    xlabel: str,
    ylabel: str,
    title: str = "",
    logx: bool = False,
    logy: bool = False,
):
    """The figure of :func:`plot_curves` (the caller closes it). On a log y axis a mean of
    zero (every run found the optimum) is not drawn: a line that ends has reached zero, and
    the figure says so."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    means = np.concatenate([c[1] for c in curves.values()]) if curves else np.array([])
    log = logy and bool(np.any(means > 0))
    for label, (x, mean, low, high) in curves.items():
        line = ax.plot(x, mean, label=label, lw=1.6)[0]
        where = None
        if log:  # the band where the line is drawn, its edges kept above zero (no wedges
            # from the last drawn point down to a masked one)
            where = mean > 0
            positive = mean[where]
            floor = positive.min() / 10 if positive.size else 0
            low, high = np.maximum(low, floor), np.maximum(high, floor)
        ax.fill_between(x, low, high, where=where, alpha=0.18, color=line.get_color(), lw=0)
    if logx:
        ax.set_xscale("log")
    if log:
        ax.set_yscale("log", nonpositive="mask")
        if np.any(means <= 0):
            ax.annotate(
                "a line that stops has reached zero regret",
                (0.99, 0.01),
                xycoords="axes fraction",
                ha="right",
                va="bottom",
                fontsize=7,
                color="0.35",
            )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    if curves:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_curves(
    curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    out: str | Path,
    xlabel: str,
    ylabel: str,
    title: str = "",
    logx: bool = False,
    logy: bool = False,
) -> Path:
    """One line (``x``, mean) with its band (``low``, ``high``) per label, saved as a PNG."""
    fig = curves_figure(curves, xlabel, ylabel, title, logx, logy)
    try:
        return save_figure(fig, out)
    finally:
        pyplot().close(fig)


def plot_ecdf(
    samples: dict[str, tuple[np.ndarray, np.ndarray]],
    out: str | Path,
    xlabel: str,
    title: str = "",
) -> Path:
    """Empirical CDFs (``x`` sorted, ``y`` in (0, 1]) as steps from 0, one per label."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    try:
        for label, (x, y) in samples.items():
            if len(x):
                ax.step(np.r_[x[0], x], np.r_[0.0, y], where="post", label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fraction of runs")
        ax.set_ylim(0, 1.02)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        return save_figure(fig, out)
    finally:
        plt.close(fig)


def regret_curves(
    experiments: dict[str, str | Path], optimum: float, key: str = "best_valid"
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Mean regret by query with a 95% band of the mean, per experiment directory; each label
    says how many runs its curve averages (``"RS (20 runs)"``)."""
    curves = {}
    for label, exp_dir in experiments.items():
        runs = read_runs(exp_dir)
        mean, low, high, _ = mean_band(
            regret_by_query([runs[k] for k in sorted(runs)], optimum, key)
        )
        name = f"{label} ({len(runs)} run{'s' * (len(runs) != 1)})"
        curves[name] = (np.arange(1, len(mean) + 1), mean, low, high)
    return curves


def plot_regret(
    experiments: dict[str, str | Path],
    optimum: float,
    out: str | Path,
    key: str = "best_valid",
    title: str = "",
) -> Path:
    """Mean regret (with a 95% band of the mean) against queries, one line per experiment, on
    a log axis (as the paper draws it)."""
    return plot_curves(
        regret_curves(experiments, optimum, key),
        out,
        "queries",
        "regret of the validation accuracy (%)",
        title=title or "mean regret, 95% band",
        logy=True,
    )
