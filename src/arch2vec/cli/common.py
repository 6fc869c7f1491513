"""What every command shares: parent parsers for the common options, argument types, output."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, NoReturn

from arch2vec.io import ENV_DATA_DIR


def positive(text: str) -> int:
    """An argparse type: a positive integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def number(
    above: float | None = None, at_least: float | None = None, below: float | None = None
) -> Any:
    """An argparse type: a finite number within the bounds given."""
    bounds = [
        f"> {above}" if above is not None else "",
        f">= {at_least}" if at_least is not None else "",
    ]
    bounds.append(f"< {below}" if below is not None else "")
    wanted = " and ".join(b for b in bounds if b)

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        ok = value == value and abs(value) != float("inf")
        ok = ok and (above is None or value > above) and (at_least is None or value >= at_least)
        ok = ok and (below is None or value < below)
        if not ok:
            raise argparse.ArgumentTypeError(f"expected a finite number {wanted}, got {text}")
        return value

    return parse


class Parser(argparse.ArgumentParser):
    """argparse with one ``arch2vec: error:`` line (after the usage line) for a bad option."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"arch2vec: error: {self.prog}: {message}\n")


def parent(*options: str, out: str | None = None, seed_help: str = "random seed") -> Any:
    """A parent parser with the common ``options``: ``json``, ``seed``, ``data_dir``, ``out``,
    ``resume``, ``workers``, ``benchmark`` (``--dataset``, ``--file``)."""
    p = Parser(add_help=False)
    for option in options:
        if option == "json":
            p.add_argument("--json", action="store_true", help="print the result as JSON")
        elif option == "seed":
            p.add_argument("--seed", type=int, default=0, help=f"{seed_help} (default: 0)")
        elif option == "data_dir":
            p.add_argument(
                "--data-dir",
                metavar="DIR",
                help=f"where space caches live (default: ${ENV_DATA_DIR} or ~/.cache/arch2vec)",
            )
        elif option == "out":
            p.add_argument(
                "--out",
                default=out,
                required=out is None,
                metavar="DIR",
                help="output directory" + (f" (default: {out})" if out else ""),
            )
        elif option == "resume":
            p.add_argument(
                "--resume", action="store_true", help="continue the run in the output directory"
            )
        elif option == "workers":
            p.add_argument(
                "--workers", type=positive, metavar="W", help="processes (default: one per core)"
            )
        elif option == "benchmark":
            p.add_argument(
                "--dataset",
                help="the benchmark's dataset (default: its first; NB-201: cifar10, cifar100, "
                "imagenet16-120; `arch2vec bench list` shows each benchmark's)",
            )
            p.add_argument("--file", metavar="F", help="data file of benchmarks that read one")
            p.add_argument(
                "--column",
                action="append",
                metavar="ROLE=NAME",
                help="benchmark table: the file's column for a role (arch, adjacency, ops, "
                "reward, valid, test, cost, reward_<f>, cost_<f>), repeatable",
            )
        else:
            raise ValueError(f"unknown common option {option!r}")
    return p


def key_values(items: list[str] | None, what: str) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict; a one-line error for one without ``=``."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} {item!r}: expected KEY=VALUE")
        out[key] = value
    return out


def benchmark_of(
    args: argparse.Namespace, space: Any = None, embeddings: Any = None, name: str | None = None
) -> Any:
    """The benchmark the common options name (``--benchmark``, or ``name``; ``--dataset``,
    ``--file``, ``--column``, ``--data-dir``), loaded once for the command, or None without
    one. Its cells are of ``space`` (an object, a name or a spec file), or of the space of
    ``embeddings`` (a pre-training run or ``.npz``) where no space is given: a ``table``
    benchmark's space, another benchmark's checked before its file is read."""
    name = name or getattr(args, "benchmark", None)
    if not name:
        return None
    from arch2vec import benchmarks

    if space is None and embeddings is not None:  # checked against the benchmark's first
        from arch2vec.models.run import load_embeddings

        space = load_embeddings(embeddings).load_space(args.data_dir)
    return benchmarks.load(
        name,
        args.dataset,
        args.file,
        args.data_dir,
        space=space,
        columns=key_values(getattr(args, "column", None), "--column"),
    )


def refuse_existing(path: Any, overwrite: bool) -> None:
    """A one-line error if the output file ``path`` exists and ``--overwrite`` was not given (the
    library's own check speaks of ``overwrite=True``; this one of the flag)."""
    from pathlib import Path

    if path is not None and Path(path).exists() and not overwrite:
        raise ValueError(f"{path}: already exists (--overwrite replaces it)")


def log(message: str) -> None:
    """A note for the user on standard error (an INFO message: ``--quiet`` hides it)."""
    logging.getLogger("arch2vec.cli").info(message)


def print_json(obj: Any, **kw: Any) -> None:
    print(json.dumps(obj, **kw))


def print_table(mapping: dict[str, Any], width: int = 24) -> None:
    """``key value`` lines of the scalar items (nested values are left to ``--json``)."""
    for key, value in mapping.items():
        if not isinstance(value, (list, dict)):
            print(f"{key:<{width}} {'n/a' if value is None else value}")
