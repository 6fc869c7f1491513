"""The record of a search: one format, one tolerant reader, one summary.

An experiment directory holds

* ``config.json``: ``{"config": {...}, "arch2vec": version}`` -- the strategy and its parameters,
  the evaluator's description (for a table: benchmark, dataset, file and optimum), the space,
  fingerprints of the candidates and embeddings, the budget, the seed and the number of runs;
* ``runs.jsonl``: one line per finished run (:meth:`arch2vec.search.engine.Trace.to_dict` plus
  ``run``): per query the pool index, cumulative cost, reward and the best cell so far with its
  reported validation and test accuracy, and the failed queries' errors;
* ``run_NNNN.jsonl`` (searches with a slow evaluator): every evaluation of run ``NNNN`` as it
  finished (:class:`Journal`), which a resumed run replays;
* ``summary.json``: :func:`summarise` of the finished runs.

:class:`ExperimentDir` owns the directory while an experiment runs (its lock, the resume check)
and writes every one of these files.

:func:`arch2vec.io.read_jsonl` reads any of the JSON-lines files: a line cut by a kill, or one
that is not an object with the expected keys, is skipped with a warning naming the file and the
line; :func:`read_runs` keeps the last line of a repeated run.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from arch2vec import __version__, io
from arch2vec.io import clean, jsonable, read_jsonl
from arch2vec.spaces.base import SearchSpace

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
    return None if np.isnan(a).all() else round(float(fn(a)), 4) + 0.0  # + 0.0: no -0.0


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


class ExperimentDir:
    """An experiment directory owned by this process (:class:`arch2vec.io.DirectoryLock`) for
    the life of the object (:meth:`release`, or a ``with`` block): what the experiment layer
    writes into it and reads back on a resume.

    Opening checks that a directory already holding an experiment is resumed (``resume``) with
    the same configuration (anything but the number of runs and the source of the embeddings;
    ``defaults``, the strategy's parameters at their defaults, fill in the ones an older
    ``config.json`` left out), removes the temporary files of a killed owner and reads the
    finished runs (:attr:`done`); it refuses a number of runs that would drop finished ones.
    """

    def __init__(
        self,
        path: str | Path,
        config: dict[str, Any],
        resume: bool,
        defaults: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.config = config
        self._lock: io.DirectoryLock | None = io.DirectoryLock(self.path, "experiment directory")
        try:
            _check_resume(self.path, config, resume, defaults or {})
            io.remove_stale_temps(self.path)  # of a killed owner: this process owns it now
            self.done = read_runs(self.path)
            beyond = sorted(k for k in self.done if k >= config["runs"])
            if beyond:  # finished work is never dropped
                raise ValueError(
                    f"{self.path}: holds {len(self.done)} finished runs, up to run {beyond[-1]}; "
                    f"runs={config['runs']} would drop {len(beyond)} of them: give runs >= "
                    f"{beyond[-1] + 1} or another directory"
                )
        except BaseException:
            self.release()
            raise

    def start(self) -> None:
        """Write ``config.json`` and rewrite ``runs.jsonl`` with the finished runs (a line cut by
        a kill goes): the first writes of an experiment, once nothing can fail before it runs."""
        io.atomic_write_json(self.path / CONFIG, {"config": self.config, "arch2vec": __version__})
        rows = "".join(json.dumps(self.done[k]) + "\n" for k in sorted(self.done))
        io.atomic_write_text(self.path / RUNS, rows)

    def append(self, row: dict[str, Any]) -> None:
        """One finished run, appended to ``runs.jsonl`` at once."""
        io.append_line(self.path / RUNS, row)

    def journal(self, run: int, space: SearchSpace | None) -> Journal:
        """The journal of run ``run``'s evaluations (searches with a slow evaluator)."""
        return Journal(run_file(self.path, run), space)

    def write_summary(self, summary: dict[str, Any]) -> None:
        io.atomic_write_json(self.path / SUMMARY, summary)

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> ExperimentDir:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _identity(config: Any, defaults: dict[str, Any]) -> Any:
    """What must match for a resume: the configuration but the number of runs and the source
    of the embeddings, with every strategy parameter (``defaults`` fill in those not kept)."""
    if not isinstance(config, dict):
        return None
    c = json.loads(json.dumps(io.jsonable(config)))
    c.pop("runs", None)
    if isinstance(c.get("embeddings"), dict):
        c["embeddings"].pop("source", None)
    if isinstance(c.get("params"), dict):
        c["params"] = {**json.loads(json.dumps(defaults)), **c["params"]}
    return c


def _check_resume(out_dir: Path, config: dict[str, Any], resume: bool, defaults: dict) -> None:
    path = out_dir / CONFIG
    if not path.is_file():
        return
    if not resume:
        raise ValueError(f"{out_dir}: already holds an experiment; resume it to continue")
    try:
        saved = json.loads(path.read_text()).get("config")
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise ValueError(f"{path}: not an experiment configuration") from None
    before, now = _identity(saved, defaults), _identity(config, defaults)
    if before == now:
        return
    if not isinstance(before, dict):
        raise ValueError(f"{path}: not an experiment configuration")
    was, space = before.get("space") or {}, now["space"]
    if not isinstance(was, dict) or was.get("fingerprint") != space["fingerprint"]:
        was = was if isinstance(was, dict) else {}
        raise ValueError(
            f"{out_dir}: cannot resume: the experiment searched {was.get('name')} (fingerprint "
            f"{was.get('fingerprint') or 'not recorded'}), not {space['name']} (fingerprint "
            f"{space['fingerprint']})"
        )
    differ = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    raise ValueError(
        f"{out_dir}: cannot resume, the experiment was made with other settings "
        f"({', '.join(differ)})"
    )


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def _journal_row(row: dict[str, Any]) -> bool:
    return all(isinstance(row[k], int) and not isinstance(row[k], bool) for k in ("query", "index"))


class Journal:
    """The evaluations of one run, one JSON line each, appended (flushed and synced) as they
    finish; ``query`` numbers every evaluation of the run in order (lower fidelities too)."""

    def __init__(self, path: str | Path, space: SearchSpace | None = None) -> None:
        self.path = Path(path)
        self.space = space
        rows = read_jsonl(self.path, ("query", "index"), _journal_row, "recorded evaluation")
        self.recorded = {r["query"]: r for r in rows}
        self.rows: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._file: TextIO | None = None

    def replay(self, query: int, index: int, fidelity: str | None) -> dict[str, Any] | None:
        row = self.recorded.get(query)
        if row is None or row["index"] != index or row.get("fidelity") != fidelity:
            return None
        self.rows[query] = row
        result = {k: _num(row.get(k)) for k in ("reward", "valid", "test")}
        return {**result, "cost": float(row.get("cost") or 0.0), "error": row.get("error")}

    def write(self, query: int, index: int, fidelity: str | None, result: dict[str, Any]) -> None:
        row: dict[str, Any] = {"query": query, "index": index, "fidelity": fidelity}
        if self.space is not None and self.space.native_key:
            row[self.space.native_key] = native_name(self.space, index)
        row.update(jsonable(result))
        with self._lock:
            if self._file is None:
                self._rewrite()
                self._file = self.path.open("a")
            self._file.write(json.dumps(row) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
            self.rows[query] = row

    def _rewrite(self) -> None:
        rows = self.rows
        io.atomic_write_text(self.path, "".join(json.dumps(rows[q]) + "\n" for q in sorted(rows)))

    def close(self) -> None:
        """Rewrite the file with this run's evaluations in order."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            self._rewrite()


def native_name(space: SearchSpace, index: int) -> Any:
    """The space's own name of pool cell ``index`` (arch string, genotype, spec), or None."""
    if not space.native_key:
        return None
    return jsonable(space.native(int(index)))
