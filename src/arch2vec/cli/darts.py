"""``arch2vec darts-eval``: the DARTS final evaluation of a genotype."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from arch2vec.cli.common import log, parent, positive, print_json


def cmd_darts_eval(args: argparse.Namespace) -> int:
    from arch2vec import __version__, io
    from arch2vec.evaluators.darts.trainer import final_evaluation
    from arch2vec.search.record import best_native

    if bool(args.genotype) == bool(args.run):
        raise ValueError("give a genotype (--genotype TEXT) or a search (--run DIR), not both")
    genotype = args.genotype or best_native(args.run, "genotype")
    result = final_evaluation(
        genotype,
        args.data,
        epochs=args.epochs,
        layers=args.layers,
        channels=args.channels,
        batch_size=args.batch_size,
        cutout=not args.no_cutout,
        auxiliary_weight=args.auxiliary_weight,
        drop_path=args.drop_path,
        seed=args.seed,
        device=args.device,
        log=None if args.json else lambda e: log(json.dumps(e, default=str)),
    )
    result = {**result, "arch2vec": __version__}
    if args.out:
        io.atomic_write_json(Path(args.out), result)
    if args.json:
        print_json(result, default=str)
    else:
        print(f"genotype {genotype}")
        print(f"test accuracy {result['test_accuracy_final']:.2f} %, {result['params']:,} params")
    return 0


def add(commands: Any) -> None:
    de = commands.add_parser(
        "darts-eval",
        parents=[parent("seed", "json")],
        help="train a DARTS cell at evaluation size and report its test accuracy",
        description="The DARTS final evaluation: the cell as normal and reduction cell, 20 cells "
        "of 36 channels, cutout, auxiliary head and drop path, trained on the whole CIFAR-10 "
        "training set for --epochs and tested on the test set (the paper: 600 epochs on a GPU). "
        "Takes the genotype as text or the best cell of a search of the DARTS pool.",
    )
    de.add_argument("--genotype", metavar="TEXT", help="DARTS genotype, e.g. from summary.json")
    de.add_argument("--run", metavar="DIR", help="a search of the DARTS pool: its best cell")
    de.add_argument("--data", required=True, metavar="DIR", help="CIFAR-10 python-pickle folder")
    de.add_argument("--epochs", type=positive, default=600, help="(default: 600)")
    de.add_argument("--layers", type=positive, default=20, help="(default: 20)")
    de.add_argument("--channels", type=positive, default=36, help="(default: 36)")
    de.add_argument("--batch-size", type=positive, default=96, help="(default: 96)")
    de.add_argument("--no-cutout", action="store_true", help="train without cutout")
    de.add_argument("--auxiliary-weight", type=float, default=0.4, help="(default: 0.4)")
    de.add_argument("--drop-path", type=float, default=0.2, help="(default: 0.2)")
    de.add_argument("--device", default="auto", help="auto (GPU if any), cpu, cuda")
    de.add_argument("--out", metavar="FILE", help="write the record as JSON")
    de.set_defaults(func=cmd_darts_eval)
