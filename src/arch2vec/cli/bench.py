"""``arch2vec bench list|info|query``."""

from __future__ import annotations

import argparse
from typing import Any

from arch2vec.cli.common import benchmark_of, parent, print_json


def cmd_list(args: argparse.Namespace) -> int:
    from arch2vec.benchmarks import BENCHMARKS

    rows = [BENCHMARKS[name].as_dict() for name in BENCHMARKS]
    if args.json:
        print_json(rows)
        return 0
    name_width = max(len(row["benchmark"]) for row in rows) + 1
    space_width = max(len(row["space"]) for row in rows) + 1
    for row in rows:
        file_note = " (--file)" if row["needs_file"] else ""
        datasets = ", ".join(row["datasets"]) or "custom"
        print(f"{row['benchmark']:<{name_width}}{row['space']:<{space_width}}{datasets}{file_note}")
        print(f"{'':<{name_width}}{row['description']}")
    return 0


def _load(args: argparse.Namespace) -> Any:
    return benchmark_of(args, space=args.space, name=args.name)


def cmd_info(args: argparse.Namespace) -> int:
    info = _load(args).info()
    if args.json:
        print_json(info, sort_keys=True)
        return 0
    for key, value in info.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        print(f"{key:<22} {value}")
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from arch2vec import benchmarks

    result = benchmarks.lookup(_load(args), args.arch, data_dir=args.data_dir, space=args.space)
    if args.json:
        print_json(result)
    else:
        for key, value in result.items():
            print(f"{key:<16} {value if value is not None else 'n/a'}")
    return 0


def add(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="tabular benchmarks: list, describe, query",
        description="Real NAS benchmark data: accuracies (percent) and training cost (seconds).",
    )
    sub = bench.add_subparsers(dest="bench_command", metavar="SUBCOMMAND", required=True)
    lst = sub.add_parser(
        "list",
        parents=[parent("json")],
        help="the benchmarks arch2vec reads",
        description="List the benchmarks, their spaces and datasets.",
    )
    lst.set_defaults(func=cmd_list)
    common = parent("benchmark", "data_dir", "json")
    common.add_argument("name", help="the benchmark (see `arch2vec bench list`)")
    common.add_argument("--space", help="benchmark table: the space (a name or a spec file)")
    info = sub.add_parser(
        "info",
        parents=[common],
        help="cells covered, optimum and ranges",
        description="Cells covered, best accuracies and value ranges. --file: the data file the "
        "benchmark reads (nb201-csv: CSV; nb101: nasbench_only108.tfrecord; nb101-30k: subset "
        "JSON file or folder; nb301: the surrogate folder).",
    )
    info.set_defaults(func=cmd_info)
    query = sub.add_parser(
        "query",
        parents=[common],
        help="look one cell up",
        description="Look up one cell, named by arch string (NB-201), genotype (DARTS), 32-hex "
        "hash or pool index. JSON keys: index, hash, search_accuracy, valid_accuracy, "
        "test_accuracy (null where the source has none), cost_seconds, the source's other "
        "columns, and the native name.",
    )
    query.add_argument("arch", metavar="ARCH", help="arch string, genotype, hash or pool index")
    query.set_defaults(func=cmd_query)
