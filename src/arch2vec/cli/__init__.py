"""The ``arch2vec`` command line: parse, call the library, print.

One module per stage, each with ``add(commands)`` that declares its commands and ``cmd_*``
functions that call one public library function each; heavy imports (torch) happen inside the
commands, so ``arch2vec --help`` starts fast. Errors the library raises (``ValueError``,
``OSError``) print as one ``arch2vec: error:`` line with exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from arch2vec import __version__
from arch2vec.cli import analyze, bench, darts, models, reproduce, search, space
from arch2vec.cli.common import Parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="arch2vec",
        description="Unsupervised architecture representations and neural architecture search "
        "in their latent space (Yan et al., NeurIPS 2020).",
    )
    parser.add_argument("--version", action="version", version=f"arch2vec {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=Parser
    )
    for module in (space, models, bench, search, analyze, reproduce, darts):
        module.add(commands)
    for leaf in _leaves(parser):
        chatter = leaf.add_argument_group("messages").add_mutually_exclusive_group()
        chatter.add_argument(
            "-v", "--verbose", action="store_true", help="also print debug messages"
        )
        chatter.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            help="print warnings and errors only: no progress bars or progress lines",
        )
    return parser


def _leaves(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers of the commands themselves (``space build``, ``search run``, ...)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser]
    return [leaf for sub in subs for child in sub.choices.values() for leaf in _leaves(child)]


@contextmanager
def messages(verbose: bool = False, quiet: bool = False) -> Iterator[None]:
    """While a command runs, the ``arch2vec`` loggers' messages go to standard error: INFO and
    above (progress lines when standard error is not a terminal, notes), DEBUG too with
    ``verbose``, warnings only with ``quiet`` (which also turns progress bars off). The
    loggers are left as they were found."""
    logger = logging.getLogger("arch2vec")
    before = logger.level, logger.propagate
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s arch2vec: %(message)s", "%H:%M:%S"))
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate = before[1]


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command: exit 0 when it succeeded; 2 with one ``arch2vec: error:`` line for bad
    input (``ValueError``, ``OSError``: the library names the file or value); 1 with one line
    when the work itself failed (``RuntimeError``: every evaluation failed, training diverged)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    verbose = any(a in ("-v", "--verbose") for a in argv)
    quiet = any(a in ("-q", "--quiet") for a in argv)
    try:
        with messages(verbose, quiet):  # from the start: plugins load while the parser is built
            args = build_parser().parse_args(argv)
            return args.func(args)
    except (ValueError, OSError) as e:
        return _error(e, 2)
    except RuntimeError as e:
        return _error(e, 1)
    except KeyboardInterrupt:
        print("arch2vec: interrupted", file=sys.stderr)
        return 130


def _error(e: BaseException, code: int) -> int:
    text = " ".join(str(e).split()) or type(e).__name__
    if isinstance(e, OSError) and e.filename and str(e.filename) not in text:
        text = f"{e.filename}: {text}"
    print(f"arch2vec: error: {text}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
