"""A self-contained report comparing search experiments (the paper's Figure 5, for our runs).

For each group of experiments that share a benchmark, dataset and benchmark file, the report has
the mean regret over runs against simulated wall-clock time (a common log-spaced grid) and against
queries, each with a 95% confidence band of the mean, and the empirical CDF of the final regret
across runs; above them, a table of every experiment's summary. ``build_report`` writes
``report.html`` (PNGs embedded as base64, one file to send) or ``report.md`` (linking the PNGs
written beside it), and ``report.json`` with the numbers behind every plot.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import __version__, io
from arch2vec.analysis import plots
from arch2vec.analysis.plots import fixed
from arch2vec.search import record

_log = logging.getLogger(__name__)

FORMATS = ("html", "markdown")


@dataclass
class Experiment:
    """A search experiment directory (written by ``run_experiment``), read back."""

    path: Path
    config: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def strategy(self) -> str:
        return str(self.config.get("strategy", "?"))


def load_experiment(exp_dir: str | Path) -> Experiment:
    """Read ``config.json``, ``runs.jsonl`` and (if present) ``summary.json`` of ``exp_dir``
    (any search: a table, the NB-301 surrogate, training); a one-line ``ValueError`` naming the
    path if it is not a search experiment."""
    path = Path(exp_dir)
    missing = [n for n in (record.CONFIG, record.RUNS) if not (path / n).is_file()]
    if missing:
        raise ValueError(
            f"{exp_dir}: not a search experiment directory (no {' or '.join(missing)})"
        )
    try:
        config = json.loads((path / record.CONFIG).read_text())["config"]
        if not isinstance(config, dict) or not isinstance(config["strategy"], str):
            raise TypeError("no strategy")
        if not isinstance(config.get("evaluator"), dict):
            raise TypeError("no evaluator")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise ValueError(f"{exp_dir}: config.json is not a search experiment's ({e!r})") from None
    runs = record.read_runs(path)
    if not runs:
        raise ValueError(f"{exp_dir}: runs.jsonl holds no finished run")
    rows = [runs[k] for k in sorted(runs)]
    summary = {}
    if (path / record.SUMMARY).is_file():
        try:
            summary = record.read_summary(path)
        except ValueError as e:
            _log.warning("%s; ignored: the report reads the runs in %s", e, record.RUNS)
        else:
            if not record.describes(summary, rows):
                _log.warning(
                    "%s: describes other runs than the %d kept in %s; ignored",
                    path / record.SUMMARY,
                    len(rows),
                    record.RUNS,
                )
                summary = {}
    return Experiment(path=path, config=config, rows=rows, summary=summary)


def _group_key(config: dict[str, Any]) -> tuple[str, str | None, str | None]:
    evaluator = config["evaluator"]
    name = str(evaluator.get("benchmark") or evaluator.get("evaluator") or "?")
    return (name, evaluator.get("dataset"), evaluator.get("file"))


def _optimum(experiments: list[Experiment]) -> tuple[str, float, str]:
    """``(key, optimum, what)``: the trace key regret is measured on, the optimum, and what it
    is -- the evaluator's known optimum (validation, else search reward), or, where no optimum is
    known (a surrogate, training), the best reward found by these experiments."""
    optimum = experiments[0].config["evaluator"].get("optimum") or {}
    if optimum.get("valid") is not None:
        return "best_valid", float(optimum["valid"]), "validation accuracy"
    if optimum.get("search") is not None:
        return "best_reward", float(optimum["search"]), "search accuracy"
    found = [v for e in experiments for r in e.rows for v in r["best_reward"] if v is not None]
    if not found:
        raise ValueError(f"{experiments[0].path}: no successful evaluation to measure regret")
    return "best_reward", float(max(found)), "search reward (optimum: the best found)"


def _clean(a) -> list[float | None]:
    """A JSON-ready list: floats rounded to 6 decimals, NaN as null."""
    return [None if not np.isfinite(v) else round(float(v), 6) for v in np.asarray(a, float)]


def _stat(a: np.ndarray, fn) -> float | None:
    a = np.asarray(a, dtype=np.float64)
    return None if np.isnan(a).all() else float(fn(a[~np.isnan(a)]))


def final_values(rows: list[dict], key: str) -> np.ndarray:
    """The last value of ``key`` in each run row (NaN where missing)."""
    return np.array(
        [r[key][-1] if r[key] and r[key][-1] is not None else np.nan for r in rows], dtype=float
    )


def _slug(*parts: str | None) -> str:
    text = "-".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "group"


def _summary_row(exp: Experiment, final_regret: np.ndarray) -> dict[str, Any]:
    valid, test = final_values(exp.rows, "best_valid"), final_values(exp.rows, "best_test")
    search = final_values(exp.rows, "best_reward")
    n = int(np.sum(~np.isnan(final_regret)))
    return {
        "experiment": str(exp.path),
        "label": exp.label,
        "strategy": exp.strategy,
        "runs": len(exp.rows),
        "queries_mean": float(np.mean([len(r["index"]) for r in exp.rows])),
        "search_accuracy_mean": _stat(search, np.mean),
        "valid_accuracy_mean": _stat(valid, np.mean),
        "valid_accuracy_std": _stat(valid, np.std),
        "test_accuracy_mean": _stat(test, np.mean),
        "test_accuracy_std": _stat(test, np.std),
        "final_regret_mean": _stat(final_regret, np.mean),
        "final_regret_ci95": (
            float(plots.Z95 * np.nanstd(final_regret, ddof=1) / np.sqrt(n)) if n > 1 else None
        ),
        "final_regret_median": _stat(final_regret, np.median),
        "wall_seconds": exp.summary.get("wall_seconds"),
        "best_cell": _best_cell(exp),
    }


def _best_cell(exp: Experiment) -> str | None:
    """The native name of the best cell of the runs kept (``summary.json``'s name where it names
    the same cell, else from the space; ``pool index N`` for a space without native names)."""
    best = record.summarise(exp.rows, exp.config)["best"]
    if best is None:
        return None
    said = exp.summary.get("best")
    if isinstance(said, dict) and said.get("index") == best["index"] and _best_name(said):
        return _best_name(said)
    try:
        name = record.space_of(exp.config).native(best["index"])
    except (ValueError, NotImplementedError, OSError, IndexError):
        return f"pool index {best['index']}"
    return name if isinstance(name, str) else json.dumps(name, separators=(",", ":"))


def _best_name(best: Any) -> str | None:
    """The native name of the best cell of a summary (arch string, genotype, JSON cell), if any."""
    if not isinstance(best, dict):
        return None
    skip = {"run", "query", "index", "reward", "valid", "test"}
    names = [v for k, v in best.items() if k not in skip]
    if not names:
        return None
    return names[0] if isinstance(names[0], str) else json.dumps(names[0], separators=(",", ":"))


def analyse_group(experiments: list[Experiment], grid_points: int = 200) -> dict[str, Any]:
    """The curves of experiments on one benchmark: regret against time (common log grid) and
    queries with 95% bands, the ECDF of final regret, and each experiment's summary row."""
    key, optimum, of = _optimum(experiments)
    name, dataset, _ = _group_key(experiments[0].config)
    grid = plots.log_grid([e.rows for e in experiments], grid_points)
    out: dict[str, Any] = {
        "benchmark": name,
        "dataset": dataset,
        "regret_of": of,
        "key": key,
        "optimum": float(optimum),
        "time_grid": grid,
        "experiments": [],
    }
    for exp in experiments:
        by_time = plots.mean_band(plots.regret_by_time(exp.rows, optimum, grid, key))
        by_query = plots.mean_band(plots.regret_by_query(exp.rows, optimum, key))
        final = plots.final_regret(exp.rows, optimum, key)
        x, y = plots.ecdf(final)
        out["experiments"].append(
            {
                "label": exp.label,
                "summary": _summary_row(exp, final),
                "time": dict(zip(("mean", "low", "high", "runs"), by_time, strict=True)),
                "queries": dict(zip(("mean", "low", "high", "runs"), by_query, strict=True)),
                "final_regret": final,
                "ecdf": {"x": x, "y": y},
            }
        )
    return out


def _plot_group(group: dict[str, Any], out_dir: Path, slug: str) -> dict[str, Path]:
    title = f"{group['benchmark']} {group['dataset']}"
    ylabel = f"regret of the {group['regret_of']} (%)"
    grid = group["time_grid"]
    exps = group["experiments"]
    time_curves = {
        e["label"]: (grid, e["time"]["mean"], e["time"]["low"], e["time"]["high"]) for e in exps
    }
    query_curves = {
        e["label"]: (
            np.arange(1, len(e["queries"]["mean"]) + 1),
            e["queries"]["mean"],
            e["queries"]["low"],
            e["queries"]["high"],
        )
        for e in exps
    }
    return {
        "time": plots.plot_curves(
            time_curves,
            out_dir / f"{slug}-regret-time.png",
            "simulated wall-clock (seconds)",
            ylabel,
            title=f"{title}: mean regret, 95% band",
            logx=True,
            logy=True,
        ),
        "queries": plots.plot_curves(
            query_curves,
            out_dir / f"{slug}-regret-queries.png",
            "queries",
            ylabel,
            title=f"{title}: mean regret, 95% band",
            logy=True,
        ),
        "ecdf": plots.plot_ecdf(
            {e["label"]: (e["ecdf"]["x"], e["ecdf"]["y"]) for e in exps},
            out_dir / f"{slug}-final-regret-ecdf.png",
            f"final {ylabel}",
            title=f"{title}: final regret over runs",
        ),
    }


def _fmt(value, digits: int = 2) -> str:
    return "n/a" if value is None else fixed(value, digits)


def _pm(mean, std, digits: int = 2) -> str:
    return "n/a" if mean is None else f"{fixed(mean, digits)} ± {_fmt(std, digits)}"


TABLE_HEADER = (
    "experiment",
    "strategy",
    "runs",
    "queries (mean)",
    "validation acc. % (mean ± std)",
    "test acc. % (mean ± std)",
    "final regret % (mean ± 95% CI)",
    "final regret % (median)",
    "wall seconds",
    "best cell",
)


def _table_cells(s: dict[str, Any]) -> list[str]:
    return [
        Path(s["experiment"]).name,
        s["strategy"],
        str(s["runs"]),
        f"{s['queries_mean']:.1f}",
        _pm(s["valid_accuracy_mean"], s["valid_accuracy_std"]),
        _pm(s["test_accuracy_mean"], s["test_accuracy_std"]),
        _pm(s["final_regret_mean"], s["final_regret_ci95"], 3),
        _fmt(s["final_regret_median"], 3),
        _fmt(s["wall_seconds"], 1),
        s.get("best_cell") or "n/a",
    ]


def _group_heading(group: dict[str, Any]) -> str:
    return (
        f"{group['benchmark']}, {group['dataset']} — regret of the {group['regret_of']}; "
        f"optimum {group['optimum']:.4f}%"
    )


def _markdown(groups: list[dict[str, Any]], pngs: list[dict[str, Path]], out_dir: Path) -> str:
    lines = [f"# Search report (arch2vec {__version__})", ""]
    for group, files in zip(groups, pngs, strict=True):
        lines += [f"## {_group_heading(group)}", ""]
        if group.get("file"):
            lines += [f"Benchmark file: `{group['file']}`", ""]
        lines.append("| " + " | ".join(TABLE_HEADER) + " |")
        lines.append("|" + " --- |" * len(TABLE_HEADER))
        for e in group["experiments"]:
            cells = [c.replace("|", "\\|") for c in _table_cells(e["summary"])]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        for what, path in files.items():
            lines += [f"![{what}]({path.relative_to(out_dir).as_posix()})", ""]
    return "\n".join(lines)


_CSS = (
    "body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;margin:1em 0;width:100%;table-layout:auto}"
    "th,td{border:1px solid #bbb;padding:.3em .6em;text-align:right;vertical-align:top}"
    "th{font-size:.85em;hyphens:auto}"
    "th:nth-child(-n+2),td:nth-child(-n+2){text-align:left}"
    # the best cell (an arch string or genotype can be hundreds of characters) wraps anywhere
    # in a column of its own width instead of widening the table past the page
    "td.cell{text-align:left;font-family:monospace;font-size:.8em;overflow-wrap:anywhere;"
    "word-break:break-all;min-width:16em;max-width:28em}"
    "img{max-width:100%;margin:.5em 0}"
)


def _html(groups: list[dict[str, Any]], pngs: list[dict[str, Path]]) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Search report (arch2vec {esc(__version__)})</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Search report (arch2vec {esc(__version__)})</h1>",
    ]
    for group, files in zip(groups, pngs, strict=True):
        parts.append(f"<h2>{esc(_group_heading(group))}</h2>")
        if group.get("file"):
            parts.append(f"<p>Benchmark file: <code>{esc(group['file'])}</code></p>")
        parts.append("<table><thead><tr>")
        parts += [f"<th>{esc(h)}</th>" for h in TABLE_HEADER]
        parts.append("</tr></thead><tbody>")
        for e in group["experiments"]:
            cells = _table_cells(e["summary"])
            parts.append(
                "<tr>"
                + f'<td title="{esc(e["summary"]["experiment"])}">{esc(cells[0])}</td>'
                + "".join(f"<td>{esc(c)}</td>" for c in cells[1:-1])
                + f'<td class="cell">{esc(cells[-1])}</td>'
                + "</tr>"
            )
        parts.append("</tbody></table>")
        for what, path in files.items():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            parts.append(f'<img alt="{esc(what)}" src="data:image/png;base64,{data}">')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _json_group(group: dict[str, Any], files: dict[str, Path], out_dir: Path) -> dict[str, Any]:
    exps = []
    for e in group["experiments"]:
        exps.append(
            {
                "label": e["label"],
                "summary": e["summary"],
                "time": {k: _clean(v) for k, v in e["time"].items()},
                "queries": {k: _clean(v) for k, v in e["queries"].items()},
                "final_regret": _clean(e["final_regret"]),
                "ecdf": {k: _clean(v) for k, v in e["ecdf"].items()},
            }
        )
    return {
        **{k: group[k] for k in ("benchmark", "dataset", "file", "regret_of", "key", "optimum")},
        "time_grid": _clean(group["time_grid"]),
        "plots": {k: p.relative_to(out_dir).as_posix() for k, p in files.items()},
        "experiments": exps,
    }


def build_report(
    exp_dirs: list[str | Path], out_dir: str | Path, fmt: str = "html", grid_points: int = 200
) -> Path:
    """Compare the search experiments ``exp_dirs``: one set of plots per (benchmark, dataset,
    file) group, PNGs and ``report.json`` in ``out_dir``; return the path of ``report.html``
    (``fmt="html"``, images embedded) or ``report.md`` (``fmt="markdown"``, images linked)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not exp_dirs:
        raise ValueError("no experiment directories given")
    experiments = [load_experiment(d) for d in exp_dirs]  # every path checked before any work
    out_dir = Path(out_dir)

    grouped: dict[tuple, list[Experiment]] = {}
    for exp in experiments:
        grouped.setdefault(_group_key(exp.config), []).append(exp)
    groups: list[dict[str, Any]] = []
    pngs: list[dict[str, Path]] = []
    for key, exps in grouped.items():
        strategies = [e.strategy for e in exps]
        for e in exps:
            name = e.strategy if strategies.count(e.strategy) == 1 else e.path.name
            e.label = f"{name} ({len(e.rows)} runs)"
        group = analyse_group(exps, grid_points)
        group["file"] = key[2]
        slug = _slug(key[0], key[1])
        if any(g["slug"] == slug for g in groups):
            slug = f"{slug}-{len(groups)}"
        group["slug"] = slug
        groups.append(group)
        pngs.append(_plot_group(group, out_dir, slug))

    io.atomic_write_json(
        out_dir / "report.json",
        {
            "arch2vec": __version__,
            "experiments": [str(Path(d)) for d in exp_dirs],
            "groups": [_json_group(g, f, out_dir) for g, f in zip(groups, pngs, strict=True)],
        },
    )
    if fmt == "html":
        path = out_dir / "report.html"
        io.atomic_write_text(path, _html(groups, pngs))
    else:
        path = out_dir / "report.md"
        io.atomic_write_text(path, _markdown(groups, pngs, out_dir))
    return path
