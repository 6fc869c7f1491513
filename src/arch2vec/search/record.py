"""The record of a search: one format, one tolerant reader, one summary.

An experiment directory holds

* ``config.json``: ``{"config": {...}, "arch2vec": version}`` -- the strategy and its parameters,
  the evaluator's description (for a table: benchmark, dataset, file and optimum), the space,
  fingerprints of the candidates and embeddings, the budget, the seed and the number of runs;
* ``runs.jsonl``: one line per finished run (:meth:`arch2vec.search.engine.Trace.to_dict` plus
  ``run``): per query the pool index, cumulative cost, reward and the best cell so far with its
  reported validation and test accuracy, and the failed queries' errors;
* ``run_NNNN.jsonl`` (searches with a slow evaluator): every evaluation of run ``NNNN`` as it
  finished (:class:`arch2vec.search.engine.Journal`), which a resumed run replays;
* ``summary.json``: :func:`summarise` of the finished runs.

:func:`arch2vec.io.read_jsonl` reads any of the JSON-lines files: a line cut by a kill, or one
that is not an object with the expected keys, is skipped with a warning naming the file and the
line; :func:`read_runs` keeps the last line of a repeated run.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import __version__, io
from arch2vec.io import clean, jsonable, read_jsonl

CONFIG = "config.json"
RUNS = "runs.jsonl"
SUMMARY = "summary.json"
RUN_KEYS = ("run", "index", "cost", "reward", "best_reward", "best_valid", "best_test")


def digest(array: Any) -> str:
    return hashlib.sha256(np.ascontiguousarray(np.asarray(array)).data).hexdigest()[:16]


def run_file(out_dir: str | Path, run: int) -> Path:
    return Path(out_dir) / f"run_{run:04d}.jsonl"


def _well_formed(row: dict[str, Any]) -> bool:
    """A run line whose fields have the types and lengths the record gives them."""
    run, index = row["run"], row["index"]
    if not isinstance(run, int) or isinstance(run, bool) or run < 0 or not isinstance(index, list):
        return False
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in index):
        return False
    for key in RUN_KEYS[2:]:
        values = row[key]
        if not isinstance(values, list) or len(values) != len(index):
            return False
        if not all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values
        ):
            return False
    return isinstance(row.get("errors", {}), dict)


def read_runs(exp_dir: str | Path) -> dict[int, dict[str, Any]]:
    """Finished runs of an experiment directory by run index (the last line of a run wins; a
    line that is not a well-formed run -- cut by a kill, edited -- is skipped with a warning
    naming the file and the line)."""
    out: dict[int, dict[str, Any]] = {}
    for row in read_jsonl(Path(exp_dir) / RUNS, RUN_KEYS, _well_formed, "search run"):
        out[row["run"]] = row
    return out


def _last(row: dict[str, Any], key: str) -> float:
    values = row.get(key) or []
    return math.nan if not values or values[-1] is None else float(values[-1])


def _stat(a: np.ndarray, fn: Callable[[np.ndarray], Any]) -> float | None:
    return None if np.isnan(a).all() else round(float(fn(a)), 4)


def summarise(
    rows: Sequence[dict[str, Any]],
    config: dict[str, Any],
    native: Callable[[int], Any] | None = None,
    native_key: str | None = None,
    wall: float | None = None,
) -> dict[str, Any]:
    """The summary of finished runs ``rows`` of an experiment made with ``config``: final
    accuracies (mean, std), final regret against the evaluator's optimum where it is known, the
    best cell found (with its native name when ``native(index)`` gives one) and the failures."""
    evaluator = config.get("evaluator") or {}
    optimum = evaluator.get("optimum") or {}
    best = np.array([_last(r, "best_reward") for r in rows], dtype=np.float64)
    valid = np.array([_last(r, "best_valid") for r in rows], dtype=np.float64)
    test = np.array([_last(r, "best_test") for r in rows], dtype=np.float64)
    regret = np.full(len(rows), np.nan)
    if optimum.get("valid") is not None and not np.isnan(valid).all():
        regret = optimum["valid"] - valid
    elif optimum.get("search") is not None:
        regret = optimum["search"] - best
    test_regret = np.full(len(rows), np.nan)
    if optimum.get("test") is not None:
        test_regret = optimum["test"] - test
    per_run = []
    overall: dict[str, Any] | None = None
    for r in rows:
        rewards = [math.nan if v is None else v for v in r["reward"]]
        found = None
        if rewards and not all(math.isnan(v) for v in rewards):
            q = int(np.nanargmax(rewards))
            found = {"query": q, "index": int(r["index"][q]), "reward": rewards[q]}
            if overall is None or rewards[q] > overall["reward"]:
                overall = {"run": r["run"], **found}
                overall["valid"] = r["best_valid"][q]
                overall["test"] = r["best_test"][q]
        per_run.append(
            {
                "run": r["run"],
                "seed": r.get("seed"),
                "queries": len(r["index"]),
                "failures": len(r.get("errors") or {}),
                "cost": clean([_last(r, "cost")])[0],
                "best": found,
            }
        )
    if overall is not None and native is not None:
        overall[native_key or "native"] = native(overall["index"])
    return {
        "strategy": config.get("strategy"),
        "benchmark": evaluator.get("benchmark", evaluator.get("evaluator")),
        "evaluator": evaluator.get("evaluator"),
        "dataset": evaluator.get("dataset"),
        "space": (config.get("space") or {}).get("name"),
        "runs": len(rows),
        "budget_seconds": config.get("budget_seconds"),
        "budget_queries": config.get("budget_queries"),
        "search_accuracy_mean": _stat(best, np.nanmean),
        "valid_accuracy_mean": _stat(valid, np.nanmean),
        "valid_accuracy_std": _stat(valid, np.nanstd),
        "test_accuracy_mean": _stat(test, np.nanmean),
        "test_accuracy_std": _stat(test, np.nanstd),
        "best_reward_mean": _stat(best, np.nanmean),
        "best_reward_std": _stat(best, np.nanstd),
        "queries_mean": round(float(np.mean([len(r["index"]) for r in rows])), 2) if rows else 0,
        "final_regret_mean": _stat(regret, np.nanmean),
        "final_test_regret_mean": _stat(test_regret, np.nanmean),
        "best": jsonable(overall),
        "failures": sum(p["failures"] for p in per_run),
        "per_run": per_run,
        "wall_seconds": None if wall is None else round(wall, 2),
        "arch2vec": __version__,
    }


def read_summary(exp_dir: str | Path) -> dict[str, Any]:
    """``summary.json`` of an experiment directory (a one-line error if absent or unreadable)."""
    path = Path(exp_dir) / SUMMARY
    if not path.is_file():
        raise ValueError(f"{exp_dir}: no {SUMMARY} (not a finished search)")
    try:
        summary = json.loads(io.read_text(path))
    except ValueError:
        raise ValueError(f"{path}: not valid JSON") from None
    if not isinstance(summary, dict):
        raise ValueError(f"{path}: not a search summary")
    return summary


def space_of(config: dict[str, Any], data_dir: str | Path | None = None) -> Any:
    """The space an experiment searched, rebuilt from its configuration's ``space`` entry (name
    and options: a spec inline, DARTS's pool size and seed)."""
    from arch2vec import spaces

    options = dict(config.get("space") or {})
    name = options.pop("name", None)
    if not isinstance(name, str):
        raise ValueError("the experiment's configuration names no space")
    for key in ("num_cells", "fingerprint"):
        options.pop(key, None)
    return spaces.get(name, data_dir=data_dir, **options)


def describes(summary: dict[str, Any], rows: Sequence[dict[str, Any]]) -> bool:
    """Whether ``summary`` is the summary of exactly the runs ``rows`` (same runs, same queries)."""
    per_run = summary.get("per_run")
    if not isinstance(per_run, list):
        return False
    try:
        said = sorted((p["run"], p["queries"]) for p in per_run)
    except (TypeError, KeyError):
        return False
    return said == sorted((r["run"], len(r["index"])) for r in rows)


def best_native(exp_dir: str | Path, key: str = "genotype") -> Any:
    """The native name (``key``: ``genotype``, ``arch_str``) of the best cell of a finished
    search, from its ``summary.json``; a one-line error if it names none."""
    best = read_summary(exp_dir).get("best")
    if not isinstance(best, dict) or not best.get(key):
        raise ValueError(f"{Path(exp_dir) / SUMMARY}: names no best cell with a {key}")
    return best[key]
