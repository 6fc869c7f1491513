"""``arch2vec search``: many seeded runs of a strategy against a benchmark or an evaluator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from arch2vec.cli.common import benchmark_of, key_values, parent, positive, print_json, print_table


def parse_params(items: list[str] | None, what: str = "strategy parameter") -> dict[str, Any]:
    """``KEY=VALUE`` strings as a dict, values read as JSON where they parse (``5``, ``0.4``,
    ``true``, ``[1, 2]``), else as text."""
    params: dict[str, Any] = {}
    for key, value in key_values(items, what).items():
        try:
            params[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            params[key.replace("-", "_")] = value
    return params


def evaluator_of(args: argparse.Namespace, space: Any = None) -> Any:
    """The evaluator the options name: ``--evaluator`` with its options, else the table
    ``--benchmark``."""
    from arch2vec import evaluators

    options = parse_params(args.evaluator_option, "evaluator option")
    if options and not args.evaluator:
        raise ValueError("--evaluator-option is for an --evaluator, not a --benchmark table")
    if args.evaluator == "nb301":
        options = {"surrogate_dir": args.surrogate_dir, **options}
        if not options["surrogate_dir"]:
            raise ValueError("evaluator nb301 needs the surrogate folder (--surrogate-dir)")
    elif args.evaluator == "train":
        options = {
            "data": args.data,
            "epochs": args.epochs,
            "layers": args.layers,
            "channels": args.channels,
            "batch_size": args.batch_size,
            "seed": args.seed,
            "device": args.device,
            **options,
        }
        if not options["data"]:
            raise ValueError("evaluator train needs a CIFAR-10 python-pickle folder (--data)")
    if args.evaluator:
        return evaluators.make(args.evaluator, **options)
    from arch2vec.evaluators.table import TableEvaluator

    return TableEvaluator(benchmark_of(args, space))


def cmd_search(args: argparse.Namespace) -> int:
    from arch2vec import search, spaces
    from arch2vec.analysis.draw import draw_best

    params = parse_params(args.param)
    if args.ei_target is not None:
        params["ei_target"] = args.ei_target
    space = spaces.get(args.space, data_dir=args.data_dir) if args.space else None
    evaluator = evaluator_of(args, space)
    space = space or spaces.get(evaluator.space, data_dir=args.data_dir)
    result = search.run(
        args.strategy,
        evaluator,
        space=space,
        embeddings=args.embeddings,
        params=params,
        runs=args.runs,
        budget_seconds=args.budget_seconds,
        budget_queries=args.budget_queries,
        seed=args.seed,
        out_dir=args.out,
        resume=args.resume,
        workers=args.workers,
        executor=args.executor,
        address=args.address,
        progress=not args.json,
    )
    draw_best(space, result.summary, Path(args.out) / "best_cell.png")
    if args.json:
        print_json(result.summary, sort_keys=True)
    else:
        print_table(result.summary)
    return 0


def add(commands: Any) -> None:
    from arch2vec import evaluators, search

    s = commands.add_parser(
        "search",
        parents=[
            parent(
                "seed",
                "resume",
                "workers",
                "data_dir",
                "json",
                "benchmark",
                seed_help="seed of run 0",
            )
        ],
        help="run a search strategy many times on a benchmark or with an evaluator",
        description="Independent seeded runs (run r uses seed S + r) in parallel processes; each "
        "finished run is appended to OUT/runs.jsonl, the summary (with the best cell) goes to "
        "OUT/summary.json and OUT/best_cell.png draws the best cell.",
    )
    s.add_argument(
        "--space",
        help="the space: a name or a spec file (default: the benchmark's or evaluator's; "
        "needed for --benchmark table)",
    )
    s.add_argument(
        "--benchmark",
        default="nb201",
        help="the table benchmark (default: nb201, the embedded NB-201 data; see `arch2vec "
        "bench list`)",
    )
    s.add_argument("--strategy", required=True, help=f"one of {', '.join(search.STRATEGIES)}")
    s.add_argument(
        "--embeddings",
        metavar="RUN_DIR",
        help="pre-training run (or embeddings .npz) for arch2vec-bo / arch2vec-rl",
    )
    s.add_argument("--runs", type=positive, default=10, help="independent runs (default: 10)")
    budget = s.add_mutually_exclusive_group(required=True)
    budget.add_argument(
        "--budget-seconds", type=float, metavar="T", help="simulated training seconds per run"
    )
    budget.add_argument(
        "--budget-queries", type=positive, metavar="Q", help="distinct cells per run"
    )
    s.add_argument(
        "--hyper",
        "--param",
        dest="param",
        action="append",
        metavar="KEY=VALUE",
        help="a strategy parameter, repeatable (e.g. top_k=5, gamma=0.4)",
    )
    s.add_argument(
        "--ei-target",
        type=float,
        metavar="ACC",
        help="arch2vec-bo: fixed EI target in percent (paper: 95 NB-101, 100 NB-201); "
        "default: the incumbent",
    )
    s.add_argument("--out", required=True, metavar="DIR", help="experiment directory")
    s.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="where runs (with a slow evaluator: each batch's evaluations) execute: local "
        "processes (default) or Ray tasks (pip install 'arch2vec[ray]')",
    )
    s.add_argument(
        "--address", metavar="ADDR", help="Ray cluster address (default: start a local Ray)"
    )
    ev = s.add_argument_group(
        "an evaluator instead of a table benchmark",
        "--evaluator scores the pool's cells as they are proposed; each evaluation is written to "
        "OUT/run_NNNN.jsonl at once and replayed by --resume.",
    )
    ev.add_argument(
        "--evaluator",
        help=f"one of {', '.join(evaluators.EVALUATORS)}: nb301, the NAS-Bench-301 surrogate "
        "(needs --surrogate-dir, pip install 'arch2vec[nb301]'); train: train each DARTS cell on "
        "CIFAR-10 (needs --data)",
    )
    ev.add_argument(
        "--evaluator-option",
        action="append",
        metavar="KEY=VALUE",
        help="an option of the evaluator, repeatable (a plugin evaluator's keyword parameters; "
        "values read as JSON where they parse, else as text)",
    )
    ev.add_argument("--surrogate-dir", metavar="DIR", help="YAHPO Gym v2 nb301 folder")
    ev.add_argument("--data", metavar="DIR", help="CIFAR-10 python-pickle folder (train)")
    ev.add_argument("--epochs", type=positive, default=50, help="train: epochs (default: 50)")
    ev.add_argument("--layers", type=positive, default=20, help="train: cells (default: 20)")
    ev.add_argument("--channels", type=positive, default=36, help="train: (default: 36)")
    ev.add_argument("--batch-size", type=positive, default=96, help="train: (default: 96)")
    ev.add_argument("--device", default="auto", help="train: auto (GPU if any), cpu, cuda")
    s.set_defaults(func=cmd_search)
