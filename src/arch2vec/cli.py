"""The ``arch2vec`` command line: parse, call the library, print."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from arch2vec import __version__, io, spaces
from arch2vec.spaces.cells import PAD

EXPORT_CHUNK = 20_000


def _space(args: argparse.Namespace) -> spaces.SearchSpace:
    return spaces.get(args.space, data_dir=args.data_dir, samples=args.samples, seed=args.seed)


def _print_info(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(info, sort_keys=True))
        return
    print(f"space      {info['space']}")
    print(f"cells      {info['num_cells']:,}")
    print(f"nodes      {info['num_nodes']}")
    print(f"ops        {', '.join(info['ops'])}")
    print(f"mean edges {info['mean_edges']}")
    for key in ("samples", "seed", "cache", "seconds"):
        if key in info:
            print(f"{key:<10} {info[key]}")


def cmd_space_build(args: argparse.Namespace) -> int:
    space = _space(args)
    start = time.perf_counter()
    if hasattr(space, "build"):
        if space.name == "nb101" and (args.rebuild or not space.cache_path.is_file()):
            print("enumerating NAS-Bench-101 (one-time; about 15 s on 2 cores)...", file=sys.stderr)
        space.build(rebuild=args.rebuild, log=lambda msg: print(msg, file=sys.stderr))
    info = space.info()
    info["seconds"] = round(time.perf_counter() - start, 2)
    if hasattr(space, "cache_path"):
        info["cache"] = str(space.cache_path)
    _print_info(info, args.json)
    return 0


def cmd_space_info(args: argparse.Namespace) -> int:
    space = _space(args)
    info = space.info()
    if hasattr(space, "cache_path"):
        info["cache"] = str(space.cache_path)
    _print_info(info, args.json)
    return 0


def _export_lines(space: spaces.SearchSpace, start: int, stop: int, hashes: np.ndarray):
    cells = space.all()[start:stop]
    native = space.to_native(cells) if space.native_key else None
    for k in range(len(cells)):
        keep = cells.ops[k] != PAD
        row = {
            "index": start + k,
            "hash": str(hashes[start + k]),
            "adjacency": cells.adjacency[k][np.ix_(keep, keep)].tolist(),
            "ops": [space.ops[o] for o in cells.ops[k][keep]],
        }
        if native is not None:
            row[space.native_key] = native[k]
        yield json.dumps(row) + "\n"


def cmd_space_export(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    space = _space(args)
    total = len(space.all())
    hashes = space.hashes()
    with (
        io.atomic_open(args.out, "w") as f,
        tqdm(total=total, unit="cell", desc=f"export {space.name}", disable=None) as bar,
    ):
        for start in range(0, total, EXPORT_CHUNK):
            stop = min(start + EXPORT_CHUNK, total)
            f.writelines(_export_lines(space, start, stop, hashes))
            bar.update(stop - start)
    print(f"wrote {total:,} cells to {args.out}", file=sys.stderr)
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arch2vec",
        description="Unsupervised architecture representations and neural architecture search "
        "in their latent space (Yan et al., NeurIPS 2020).",
    )
    parser.add_argument("--version", action="version", version=f"arch2vec {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    space = commands.add_parser(
        "space", help="build, describe and export search spaces", description="Search spaces."
    )
    space_cmds = space.add_subparsers(dest="space_command", metavar="SUBCOMMAND", required=True)

    def space_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("space", choices=sorted(spaces.SPACES), help="the search space")
        p.add_argument(
            "--data-dir",
            metavar="DIR",
            help=f"where caches live (default: ${io.ENV_DATA_DIR} or ~/.cache/arch2vec)",
        )
        p.add_argument(
            "--samples",
            type=_positive,
            default=600_000,
            metavar="N",
            help="DARTS only: number of distinct cells in the sampled pool (default: 600000, "
            "as in the paper)",
        )
        p.add_argument(
            "--seed",
            type=int,
            default=0,
            metavar="S",
            help="random seed (DARTS: which pool is sampled; NB-101 and NB-201 are enumerated "
            "exhaustively and do not depend on it) (default: 0)",
        )

    build = space_cmds.add_parser(
        "build",
        help="enumerate or sample a space and cache it",
        description="Enumerate NB-101 (423,624 cells) or NB-201 (15,625), or sample the DARTS "
        "pool, cache the result under the data directory and print a summary.",
    )
    space_options(build)
    build.add_argument("--rebuild", action="store_true", help="ignore an existing cache")
    build.add_argument("--json", action="store_true", help="print the summary as JSON")
    build.set_defaults(func=cmd_space_build)

    info = space_cmds.add_parser(
        "info",
        help="summarise a space",
        description="Print the space's name, cell count, node count and op vocabulary "
        "(building its cache first if needed).",
    )
    space_options(info)
    info.add_argument(
        "--json",
        action="store_true",
        help="print JSON (keys: space, num_cells, num_nodes, ops, mean_edges, ...)",
    )
    info.set_defaults(func=cmd_space_info)

    export = space_cmds.add_parser(
        "export",
        help="write every cell as JSON lines",
        description='Write one JSON object per cell: {"index", "hash", "adjacency", "ops"} '
        "with op names (padding nodes dropped), plus arch_str (NB-201) or genotype (DARTS).",
    )
    space_options(export)
    export.add_argument("--out", required=True, metavar="FILE.jsonl", help="output file")
    export.set_defaults(func=cmd_space_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as e:
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"arch2vec: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("arch2vec: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
