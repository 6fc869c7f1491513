"""Paired comparison of strategies run on the same seeds: the project's one results table.

Every strategy of a comparison ran its runs with the same experiment seed, so run ``r`` of each
strategy drew the same seed: runs pair by their index. Per strategy the table gives the chosen
cell's validation accuracy (the search objective) as mean ± std and its standard error, its test
accuracy and search reward (which differs from the validation accuracy where the search reads a
cheaper fidelity: NB-201 CIFAR-10's 12-epoch accuracy), the queries, the share of runs that end
on the best-validation cell and the median number of queries from which they stayed on it (runs
that do not end there count as infinitely many: the median is "not reached" when fewer than half
do), and a two-sided paired Wilcoxon signed-rank test (SciPy; zero differences dropped, exact or
normal approximation as SciPy chooses) of its validation accuracy against the reference
strategy's over the runs both have: the best strategy by mean validation accuracy among all but
``focus`` that ran the most runs (a strategy run on fewer seeds is compared with it on those,
but is not the reference).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, SupportsFloat

import numpy as np

from arch2vec.analysis.plots import fixed
from arch2vec.analysis.report import final_values, load_experiment

TOLERANCE = 1e-6
"""Accuracies (percent) this close to the optimum count as reaching it (tables store 4-6
decimals)."""


def _queries_to(rows: list[dict[str, Any]], optimum: float | None) -> np.ndarray:
    """Per run, the query (1-based) from which the validation accuracy of the cell the run
    would choose (its best search reward so far) stays at ``optimum`` to the end (inf: it does
    not end there; where the search reward is not the validation accuracy, a run can hold the
    optimum for a while and leave it for a cell of better reward)."""
    out = np.full(len(rows), math.inf)
    if optimum is None:
        return out
    for k, r in enumerate(rows):
        at = [v is not None and v >= optimum - TOLERANCE for v in r["best_valid"]]
        if at and at[-1]:
            q = len(at)
            while q > 0 and at[q - 1]:
                q -= 1
            out[k] = q + 1
    return out


def _wilcoxon(a: np.ndarray, b: np.ndarray) -> float | None:
    from scipy.stats import wilcoxon

    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    if len(d) < 2 or not np.any(d != 0):
        return None if len(d) < 2 else 1.0
    return float(wilcoxon(a[keep], b[keep], zero_method="wilcox").pvalue)


def compare(
    experiments: Mapping[str, str | Path | Sequence[str | Path]],
    focus: str | None = None,
    optimum: float | None = None,
) -> dict[str, Any]:
    """The paired table of ``experiments`` (name -> experiment directory, same seeds).

    A name may map to a list of directories, pooled into one row: the ``i``-th directories of
    two names pair with each other, run by run (for instance one directory per pre-training
    seed of the embeddings, searched with the same experiment seed: pairs are then matched by
    pre-training seed and run seed).
    ``focus``: the strategy under test, left out when choosing the reference (the best other
    one of those with the most runs); ``optimum``: the best validation accuracy of the
    evaluator (default: the one its ``config.json`` records). Returns ``{"reference", "focus",
    "optimum", "rows"}``; a row per experiment holds ``name``, ``runs``, ``valid_mean``,
    ``valid_std``, ``valid_se``, ``test_mean``, ``test_std``, ``search_mean``, ``search_std``
    (the search reward of the chosen cell), ``queries_mean``, ``found``
    (the share of runs that end on the optimum), ``median_queries_to_optimum``,
    ``paired_runs``, ``diff_vs_reference`` (the mean paired difference) and
    ``p_vs_reference``."""
    if not experiments:
        raise ValueError("compare: no experiments given")
    runs: dict[str, dict[tuple[int, int], dict[str, Any]]] = {}
    for name, paths in experiments.items():
        group = [paths] if isinstance(paths, (str, Path)) else list(paths)
        if not group:
            raise ValueError(f"compare: no experiment directory for {name!r}")
        runs[name] = {}
        for i, path in enumerate(group):
            exp = load_experiment(path)  # a one-line error naming the directory
            runs[name].update({(i, row["run"]): row for row in exp.rows})
            if optimum is None:
                optimum = (exp.config["evaluator"].get("optimum") or {}).get("valid")
    valid = {
        n: dict(zip(rs, final_values(list(rs.values()), "best_valid"), strict=True))
        for n, rs in runs.items()
    }
    means = {n: float(np.nanmean(list(v.values()))) if v else -math.inf for n, v in valid.items()}
    others = [n for n in runs if n != focus] or list(runs)
    most = max(len(runs[n]) for n in others)
    reference = max((n for n in others if len(runs[n]) == most), key=lambda n: means[n])
    rows = []
    for name, rs in runs.items():
        ordered = [rs[r] for r in sorted(rs)]
        v = final_values(ordered, "best_valid")
        t = final_values(ordered, "best_test")
        reward = final_values(ordered, "best_reward")
        reach = _queries_to(ordered, optimum)
        common = sorted(set(rs) & set(runs[reference]))
        a = np.array([valid[name][r] for r in common])
        b = np.array([valid[reference][r] for r in common])
        paired = name != reference and len(common) > 0
        n = int(np.isfinite(v).sum())
        median = float(np.median(reach)) if len(reach) else math.inf
        rows.append(
            {
                "name": name,
                "runs": len(ordered),
                "valid_mean": _round(np.nanmean(v)) if n else None,
                "valid_std": _round(np.nanstd(v)) if n else None,
                "valid_se": _round(np.nanstd(v, ddof=1) / math.sqrt(n)) if n > 1 else None,
                "search_mean": _round(np.nanmean(reward)) if np.isfinite(reward).any() else None,
                "search_std": _round(np.nanstd(reward)) if np.isfinite(reward).any() else None,
                "test_mean": _round(np.nanmean(t)) if np.isfinite(t).any() else None,
                "test_std": _round(np.nanstd(t)) if np.isfinite(t).any() else None,
                "queries_mean": _round(np.mean([len(r["index"]) for r in ordered]), 1),
                "found": _round(np.mean(np.isfinite(reach)), 3) if optimum is not None else None,
                "median_queries_to_optimum": None if not math.isfinite(median) else median,
                "paired_runs": len(common) if paired else None,
                "diff_vs_reference": _round(np.nanmean(a - b)) if paired else None,
                "p_vs_reference": _wilcoxon(a, b) if paired else None,
            }
        )
    return {"reference": reference, "focus": focus, "optimum": optimum, "rows": rows}


def _round(x: SupportsFloat, digits: int = 4) -> float | None:
    return None if not math.isfinite(float(x)) else round(float(x), digits)


def markdown(table: dict[str, Any], names: Mapping[str, str] | None = None) -> str:
    """``table`` (:func:`compare`) as a Markdown table, the reference's row marked."""
    names = names or {}
    ref = table["reference"]
    lines = [
        "| method | runs | valid % mean ± std | s.e. | test % | search reward % | queries | "
        "found optimum | "
        f"median queries to it | vs {names.get(ref, ref)} (Wilcoxon p) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in table["rows"]:
        label = names.get(r["name"], r["name"])
        if r["name"] == ref:
            vs = "reference"
        elif r["diff_vs_reference"] is None:
            vs = "n/a"
        else:
            p = r["p_vs_reference"]
            vs = f"{r['diff_vs_reference']:+.3f} ({'n/a' if p is None else f'{p:.2g}'})"
        found = "n/a" if r["found"] is None else f"{100 * r['found']:.1f} %"
        median = r["median_queries_to_optimum"]
        lines.append(
            f"| {label} | {r['runs']} | {_pm(r['valid_mean'], r['valid_std'])} | "
            f"{_num(r['valid_se'], 3)} | {_pm(r['test_mean'], r['test_std'])} | "
            f"{_pm(r['search_mean'], r['search_std'])} | "
            f"{_num(r['queries_mean'], 1)} | {found} | "
            f"{'not reached' if median is None else f'{median:.0f}'} | {vs} |"
        )
    return "\n".join(lines) + "\n"


def _num(x: float | None, digits: int) -> str:
    return "n/a" if x is None else fixed(x, digits)


def _pm(mean: float | None, std: float | None) -> str:
    # (a row has a mean and its std, or neither)
    return "n/a" if mean is None or std is None else f"{fixed(mean, 3)} ± {fixed(std, 3)}"
