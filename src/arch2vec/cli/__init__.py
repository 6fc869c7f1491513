"""The ``arch2vec`` command line: parse, call the library, print.

One module per stage, each with ``add(commands)`` that declares its commands and ``cmd_*``
functions that call one public library function each; heavy imports (torch) happen inside the
commands, so ``arch2vec --help`` starts fast. Errors the library raises (``ValueError``,
``OSError``) print as one ``arch2vec: error:`` line with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from arch2vec import __version__
from arch2vec.cli import analyze, bench, darts, models, reproduce, search, space


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arch2vec",
        description="Unsupervised architecture representations and neural architecture search "
        "in their latent space (Yan et al., NeurIPS 2020).",
    )
    parser.add_argument("--version", action="version", version=f"arch2vec {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (space, models, bench, search, analyze, reproduce, darts):
        module.add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
