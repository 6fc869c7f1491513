"""``arch2vec reproduce table1|table2|table3|table4`` and ``arch2vec demo``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from arch2vec.cli.common import log, parent, positive

DEFAULT_OUT = {
    "table1": "runs/table1",
    "table2": "runs/table2",
    "table3": "runs/table3",
    "table4": "runs/table4",
}
NEEDS_FILE = {
    "table2": "table2 needs NAS-Bench-101 data (--file: the 30,001-cell subsets folder or "
    "nasbench_only108.tfrecord)",
    "table3": "table3 follows the paper's protocol on a merged NB-201 table "
    "(--file nb201_merged.csv)",
    "table4": "table4 scores DARTS cells with the NB-301 surrogate (--file: the folder of "
    "YAHPO Gym's nb301 data)",
}


def cmd_reproduce(args: argparse.Namespace) -> int:
    from arch2vec.analysis import reproduce

    out = args.out or DEFAULT_OUT[args.table]
    if args.table == "table1":
        overrides = {"epochs": args.epochs, "data_dir": args.data_dir, "threads": args.threads}
        reproduce.table1(
            out,
            spaces=args.spaces,
            models=args.models,
            samples=args.samples,
            seeds=args.seeds or [args.seed],
            overrides={k: v for k, v in overrides.items() if v is not None},
            log=log,
        )
    else:
        if not args.file:
            raise ValueError(NEEDS_FILE[args.table])
        table: dict[str, Callable[..., Any]] = {
            "table2": reproduce.table2,
            "table3": reproduce.table3,
            "table4": reproduce.table4,
        }
        defaults = {
            "table2": reproduce.TABLE2_STRATEGIES,
            "table3": reproduce.TABLE3_STRATEGIES,
            "table4": reproduce.TABLE4_STRATEGIES,
        }[args.table]
        options: dict[str, Any] = {} if args.table == "table3" else {"data_dir": args.data_dir}
        if args.table == "table3" and args.datasets:
            options["datasets"] = args.datasets
        table[args.table](
            out,
            args.file,
            embeddings=args.embeddings,
            strategies=args.strategies or list(defaults),
            runs=args.runs or (100 if args.table == "table4" else 500),
            workers=args.workers,
            seed=args.seed,
            log=log,
            **options,
        )
    print((Path(out) / f"{args.table}.md").read_text(), end="")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from arch2vec.analysis.reproduce import demo

    text = demo(
        args.out,
        runs=args.runs,
        queries=args.queries,
        workers=args.workers,
        seed=args.seed,
        log=log,
    )
    print(text, end="")
    return 0


def add(commands: Any) -> None:
    from arch2vec.cli.models import training_options
    from arch2vec.models import MODELS

    rp = commands.add_parser(
        "reproduce",
        parents=[parent("seed", "workers", "data_dir")],
        help="regenerate one of the paper's tables",
        description="table1: pre-train and evaluate each model on each space and write "
        "OUT/table1.md with the paper's numbers beside ours. table3: the NB-201 search "
        "comparison with the paper's protocol and budgets (needs --file, the merged NB-201 "
        "table), OUT/table3.md. table2: NAS-Bench-101 search with the paper's 1e6 s budget on "
        "--file (the 30,001-cell subsets folder, or the official TFRecord). table4: the DARTS "
        "search, 100 queries a run, scored by the NB-301 surrogate (--file: its folder) over the "
        "sampled DARTS pool, OUT/table4.md. Killed runs resume.",
    )
    rp.add_argument("table", choices=list(DEFAULT_OUT))
    rp.add_argument(
        "--spaces", nargs="+", default=["nb101", "nb201", "darts"], help="table1 spaces"
    )
    rp.add_argument("--models", nargs="+", default=["gae", "vgae", "arch2vec"], choices=MODELS)
    rp.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        metavar="S",
        help="table1: pre-training seeds; every row is the mean ± std over them (default: --seed)",
    )
    training_options(rp)
    rp.add_argument(
        "--samples", type=positive, default=10_000, help="prior samples (default: 10000)"
    )
    rp.add_argument("--out", metavar="DIR", help="(default: runs/TABLE, e.g. runs/table4)")
    rp.add_argument(
        "--file",
        metavar="F",
        help="table3: the merged NB-201 table (CSV); "
        "table2: the NB-101 subsets folder or the official TFRecord; "
        "table4: the NB-301 surrogate folder (YAHPO Gym nb301 data)",
    )
    rp.add_argument(
        "--embeddings",
        metavar="RUN_DIR",
        help="table2/3/4: pre-training run of the space (default: train one into OUT)",
    )
    rp.add_argument(
        "--strategies",
        nargs="+",
        metavar="S",
        help="table2/3/4 strategies (default: random evolution reinforce bohb arch2vec-rl "
        "arch2vec-bo supervised-bo arch2vec-lbo). Strategies run into OUT earlier, with other "
        "--strategies or --runs, join the paired comparison (pairs are matched by run seed)",
    )
    rp.add_argument(
        "--datasets",
        nargs="+",
        metavar="D",
        help="table3 datasets (default: cifar10 cifar100 imagenet16-120)",
    )
    rp.add_argument(
        "--runs", type=positive, help="table2/3/4 runs per strategy (default: 500; table4: 100)"
    )
    rp.set_defaults(func=cmd_reproduce)

    d = commands.add_parser(
        "demo",
        parents=[parent("seed", "workers")],
        help="the whole pipeline on the embedded NB-201 data (a minute)",
        description="Pre-train arch2vec on NAS-Bench-201 and print its Table 1 row, then run "
        "arch2vec-LBO, arch2vec-BO, arch2vec-RL and random search on CIFAR-10 (the same seeds) "
        "and print a paired table and a regret plot (OUT/regret.png). Finished steps are reused "
        "when run again.",
    )
    d.add_argument("--out", default="runs/demo", metavar="DIR", help="(default: runs/demo)")
    d.add_argument("--runs", type=positive, default=20, help="runs per strategy (default: 20)")
    d.add_argument("--queries", type=positive, default=100, help="cells per run (default: 100)")
    d.set_defaults(func=cmd_demo)
