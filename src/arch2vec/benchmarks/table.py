"""Your own results as a benchmark: a CSV or Parquet file of (architecture, reward[, ...]) rows.

One row per cell of a space (any space: built-in, plugin or spec). Columns, by role (rename any
with ``columns={"reward": "val_acc", ...}``; ``--column reward=val_acc`` on the command line):

- ``arch``: the cell -- its native form (an NB-201 arch string, a DARTS genotype, a JSON
  ``{"matrix": [[...]], "ops": [...]}`` cell), its 32-hex hash or its pool index; or, instead of
  ``arch``, two columns ``adjacency`` and ``ops`` (JSON lists; ops by name or index);
- ``reward`` (required): the search reward, percent (0..100);
- ``valid``, ``test`` (optional): reported validation / test accuracy, percent (empty: unknown);
- ``cost`` (optional): seconds to obtain the reward (none: a search needs a query budget);
- ``reward_<f>`` and ``cost_<f>`` (optional): a lower fidelity ``<f>`` (e.g. ``reward_12``);
- every other numeric column becomes an extra (params, FLOPs, latency, ...), answered by
  ``arch2vec bench query``.

The benchmark covers the cells with a row; a search proposes only those, and ``info()`` reports
the coverage. A bad file fails in one line naming the file, row and column: a missing column, a
number that is not one, an accuracy outside 0..100, a cell that is not in the space, a cell
given twice.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec.benchmarks.base import Benchmark
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import Cells

ROLES = ("arch", "adjacency", "ops", "reward", "valid", "test", "cost")
ACCURACIES = ("reward", "valid", "test")


def _read_rows(path: Path) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a CSV (text) or Parquet file; one-line errors naming the file."""
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pandas as pd

            frame = pd.read_parquet(path)
        except ImportError:
            raise ValueError(f"{path}: reading Parquet needs pandas and pyarrow") from None
        except Exception as e:  # pyarrow raises its own types for a damaged file
            raise ValueError(f"{path}: not a readable Parquet file ({type(e).__name__})") from None
        header = [str(c) for c in frame.columns]
        return header, [["" if v is None else v for v in row] for row in frame.itertuples(False)]
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte {e.start})") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, [])
    if not header:
        raise ValueError(f"{path}: empty file (expected a header row)")
    rows = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ValueError(f"{path}, row {line}: {len(row)} fields, expected {len(header)}")
        rows.append(row)
    return header, rows


def _number(value: Any, where: str) -> float:
    if value == "" or value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {value!r} is not a number") from None


def from_file(
    path: str | Path,
    space: SearchSpace,
    dataset: str = "custom",
    columns: Mapping[str, str] | None = None,
    name: str = "table",
) -> Benchmark:
    """The benchmark of a results file over ``space`` (see the module docstring)."""
    path = Path(path)
    names = {role: role for role in ROLES}
    for role, given in (columns or {}).items():
        if role not in ROLES and not role.startswith(("reward_", "cost_")):
            raise ValueError(f"columns: unknown role {role!r} (expected one of {', '.join(ROLES)})")
        names[role] = given
    header, rows = _read_rows(path)
    if len(set(header)) != len(header):
        raise ValueError(f"{path}: a column name appears twice in the header")
    at = {c: k for k, c in enumerate(header)}
    by_cell = names["arch"] in at
    needed = [names["reward"]] + (
        [names["arch"]] if by_cell else [names["adjacency"], names["ops"]]
    )
    for wanted in needed:
        if wanted not in at:
            raise ValueError(
                f"{path}: no column {wanted!r} (the header has: {', '.join(header)}); name the "
                "columns with columns={role: column}"
            )
    if not rows:
        raise ValueError(f"{path}: no rows")
    index = _locate(path, space, rows, at, names, by_cell)
    first: dict[int, int] = {}
    for k, i in enumerate(index.tolist()):
        if i in first:
            raise ValueError(f"{path}, rows {first[i] + 2} and {k + 2}: the same cell twice")
        first[i] = k
    n = len(space.all())

    def column(name: str, accuracy: bool) -> np.ndarray:
        out = np.full(n, np.nan)
        if name not in at:
            return out
        for k, row in enumerate(rows):
            where = f"{path}, row {k + 2}, column {name}"
            value = _number(row[at[name]], where)
            if accuracy and not (math.isnan(value) or 0.0 <= value <= 100.0):
                raise ValueError(f"{where}: {value!r} is not an accuracy in percent (0..100)")
            if not accuracy and not (math.isnan(value) or (math.isfinite(value) and value >= 0)):
                raise ValueError(f"{where}: {value!r} is not a number of seconds (>= 0)")
            out[index[k]] = value
        return out

    values = {role: column(names[role], role in ACCURACIES) for role in ACCURACIES + ("cost",)}
    missing = np.flatnonzero(np.isnan(values["reward"][index]))
    if len(missing):
        raise ValueError(f"{path}, row {missing[0] + 2}, column {names['reward']}: no reward")
    fidelities = {}
    for c in header:
        role = next((r for r, col in names.items() if col == c), c)
        if role.startswith("reward_"):
            f = role[len("reward_") :]
            cost = column(names.get(f"cost_{f}", f"cost_{f}"), False)
            fidelities[f] = (column(c, True), cost)
    used = (
        set(needed)
        | {names[r] for r in ROLES}
        | {c for c in header if c.startswith(("reward_", "cost_"))}
    )
    extras: dict[str, np.ndarray] = {}
    for c in header:
        if c in used:
            continue
        try:
            if _numeric(rows, at[c]):
                extras[c] = column(c, False)
        except ValueError:
            pass  # a column of text (or of an unreadable number) is no extra
    return Benchmark(
        name=name,
        space=space.name,
        dataset=dataset,
        search=values["reward"],
        valid=values["valid"],
        test=values["test"],
        cost=values["cost"],
        source=f"{path.name}: {len(rows)} of {n} cells of {space.name}",
        fidelities=fidelities,
        extras=extras,
    )


def _numeric(rows: list[list[Any]], k: int) -> bool:
    for row in rows:
        try:
            if row[k] != "" and row[k] is not None:
                float(row[k])
        except (TypeError, ValueError):
            return False
    return True


def _locate(
    path: Path,
    space: SearchSpace,
    rows: list[list[Any]],
    at: dict[str, int],
    names: dict[str, str],
    by_cell: bool,
) -> np.ndarray:
    """Pool index of every row's cell; a one-line error naming the first row that is none."""
    if by_cell:
        column = names["arch"]
        texts = [str(row[at[column]]).strip() for row in rows]
        index = space.locate_many(texts)
    else:
        column = f"{names['adjacency']}/{names['ops']}"
        items = []
        for k, row in enumerate(rows):
            try:
                adj = json.loads(row[at[names["adjacency"]]])
                ops = json.loads(row[at[names["ops"]]])
                ops = [space.ops.index(o) if isinstance(o, str) else int(o) for o in ops]
            except (ValueError, TypeError):
                raise ValueError(
                    f"{path}, row {k + 2}, column {column}: expected JSON lists (ops by name of "
                    f"{', '.join(space.ops)} or index)"
                ) from None
            items.append((adj, ops))
        index = np.array([space.index_of_arrays(a, o) for a, o in items], dtype=np.int64)
        texts = [f"{a} {o}" for a, o in items]
    bad = np.flatnonzero(index < 0)
    if len(bad):
        k = int(bad[0])
        raise ValueError(
            f"{path}, row {k + 2}, column {column}: {texts[k][:120]!r} is not a cell of the "
            f"{space.name} space"
        )
    return index


__all__ = ["Cells", "from_file"]
