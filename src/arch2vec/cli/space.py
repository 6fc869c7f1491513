"""``arch2vec space build|info|export|spec``."""

from __future__ import annotations

import argparse
import inspect
import time
from pathlib import Path
from typing import Any

from arch2vec import checks
from arch2vec.cli.common import log, parent, positive, print_json, refuse_existing


def _space(args: argparse.Namespace, rebuild: bool = False) -> Any:
    """The space of ``args``, its cache built (with a word on stderr) if missing."""
    from arch2vec import spaces

    takes = spaces.options_of(args.space) if args.space in spaces.SPACES else ()
    options = {"samples": args.samples}  # refused by a space without one, where given
    seed = checks.seed(args.seed)
    if takes is None or "seed" in takes:  # the common --seed: the pool's, where it has one
        options["seed"] = seed
    options = {k: v for k, v in options.items() if v is not None}  # the space's defaults
    space: Any = spaces.get(args.space, data_dir=args.data_dir, **options)  # build: duck-typed
    if hasattr(space, "build"):
        if space.name == "nb101" and (rebuild or not space.cache_path.is_file()):
            log("enumerating NAS-Bench-101 (once; seconds to a minute)...")
        shown = "progress" in inspect.signature(space.build).parameters and not getattr(
            args, "json", False
        )
        space.build(rebuild=rebuild, log=log, **({"progress": True} if shown else {}))
    return space


def _info(space: Any) -> dict[str, Any]:
    info = space.info()
    if hasattr(space, "cache_path"):
        info["cache"] = str(space.cache_path)
    return info


def _print_info(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(info, sort_keys=True)
        return
    print(f"space       {info['space']}")
    print(f"cells       {info['num_cells']:,}")
    print(f"nodes       {info['num_nodes']}")
    print(f"ops         {', '.join(info['ops'])}")
    print(f"mean edges  {info['mean_edges']}")
    for key in ("fingerprint", "samples", "seed", "cache", "seconds"):
        if key in info:
            print(f"{key:<11} {info[key]}")


def cmd_build(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    space = _space(args, rebuild=args.rebuild)
    info = _info(space)
    info["seconds"] = round(time.perf_counter() - start, 2)
    _print_info(info, args.json)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    _print_info(_info(_space(args)), args.json)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    total = _space(args).export(args.out, progress=True)
    log(f"wrote {total:,} cells to {args.out}")
    return 0


def cmd_spec(args: argparse.Namespace) -> int:
    from arch2vec import spaces
    from arch2vec.spaces.spec import SpaceSpec

    if args.name is None:
        if args.out is not None or args.overwrite:
            raise ValueError(
                f"--out and --overwrite need a NAME ({', '.join(spaces.example_specs())})"
            )
        for name in spaces.example_specs():
            print(f"{name:<7} {SpaceSpec.load(spaces.example_spec(name)).description}")
        return 0
    spaces.example_spec(args.name)  # an unknown name first: one line that lists the known ones
    out = Path(args.out if args.out is not None else f"{args.name}.toml")
    refuse_existing(out, args.overwrite)
    spaces.export_spec(args.name, out, overwrite=True)
    log(f"wrote the {args.name} spec to {out}")
    return 0


def add(commands: Any) -> None:
    from arch2vec import spaces

    space = commands.add_parser(
        "space", help="build, describe and export search spaces", description="Search spaces."
    )
    sub = space.add_subparsers(dest="space_command", metavar="SUBCOMMAND", required=True)
    common = parent(
        "data_dir",
        "seed",
        seed_help="DARTS: which pool is sampled; NB-101 and NB-201 are enumerated exhaustively "
        "and do not depend on it",
    )
    common.add_argument(
        "space",
        help=f"the search space: a registered name ({', '.join(spaces.names())}; plugins add "
        "theirs) or a spec file (.toml or .json; `arch2vec space spec` lists those that ship)",
    )
    common.add_argument(
        "--samples",
        type=positive,
        metavar="N",
        help="DARTS only: number of distinct cells in the sampled pool (default: 600000, "
        "as in the paper)",
    )
    build = sub.add_parser(
        "build",
        parents=[common, parent("json")],
        help="enumerate or sample a space and cache it",
        description="Enumerate NB-101 (423,624 cells) or NB-201 (15,625), or sample the DARTS "
        "pool, cache the result under the data directory and print a summary.",
    )
    build.add_argument("--rebuild", action="store_true", help="ignore an existing cache")
    build.set_defaults(func=cmd_build)
    info = sub.add_parser(
        "info",
        parents=[common, parent("json")],
        help="summarise a space",
        description="Print the space's name, cell count, node count and op vocabulary "
        "(building its cache first if needed); --json keys: space, num_cells, num_nodes, ops, "
        "mean_edges, ...",
    )
    info.set_defaults(func=cmd_info)
    export = sub.add_parser(
        "export",
        parents=[common],
        help="write every cell as JSON lines",
        description='Write one JSON object per cell: {"index", "hash", "adjacency", "ops"} '
        "with op names (padding nodes dropped), plus arch_str (NB-201) or genotype (DARTS).",
    )
    export.add_argument("--out", required=True, metavar="FILE.jsonl", help="output file")
    export.set_defaults(func=cmd_export)
    spec = sub.add_parser(
        "spec",
        help="write a spec file that ships with arch2vec",
        description="Write a copy of a space spec that ships with arch2vec (cell6: the made-up "
        "space of the worked example; nb101, nb201: the built-in spaces written as specs), to "
        "read, edit and use wherever a space name goes. Without NAME: list them.",
    )
    spec.add_argument(
        "name",
        nargs="?",
        metavar="NAME",
        help=f"the spec ({', '.join(spaces.example_specs())}); omitted: list them",
    )
    spec.add_argument("--out", metavar="FILE", help="output file (default: NAME.toml, here)")
    spec.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    spec.set_defaults(func=cmd_spec)
