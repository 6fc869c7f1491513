"""The ``arch2vec`` command line: parse, call the library, print."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from arch2vec import __version__, io, spaces
from arch2vec.spaces.cells import PAD

EXPORT_CHUNK = 20_000


def _space(args: argparse.Namespace, rebuild: bool = False) -> spaces.SearchSpace:
    """The space of ``args``, its cache built (with a word on stderr) if missing."""
    space = spaces.get(args.space, data_dir=args.data_dir, samples=args.samples, seed=args.seed)
    if hasattr(space, "build"):
        if space.name == "nb101" and (rebuild or not space.cache_path.is_file()):
            print("enumerating NAS-Bench-101 (one-time; about 15 s on 2 cores)...", file=sys.stderr)
        space.build(rebuild=rebuild, log=lambda msg: print(msg, file=sys.stderr))
    return space


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
    start = time.perf_counter()
    space = _space(args, rebuild=args.rebuild)
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


def _pretrain_config(args: argparse.Namespace, **extra):
    from arch2vec.models.train import PretrainConfig

    options = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "beta": args.beta,
        "dropout": args.dropout,
        "threads": args.threads,
        "samples": args.samples,
        "pool_seed": args.pool_seed,
        "data_dir": args.data_dir,
        **extra,
    }
    return PretrainConfig(**{k: v for k, v in options.items() if v is not None})


def cmd_pretrain(args: argparse.Namespace) -> int:
    from arch2vec.models.train import pretrain

    config = _pretrain_config(args, space=args.space, model=args.model, seed=args.seed)
    out = args.out or f"runs/{config.space}-{config.model}-seed{config.seed}"
    final = pretrain(config, out, resume=args.resume, progress=not args.json)
    final = {"run_dir": str(out), **final}
    if args.json:
        print(json.dumps(final, sort_keys=True))
    else:
        print(
            f"{config.model} on {config.space}: {final.get('epoch', 0)} epochs, held-out "
            f"reconstruction {100 * final.get('heldout_reconstruction_accuracy', 0):.2f}% "
            f"-> {out}"
        )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from arch2vec.models.metrics import evaluate

    result = evaluate(args.run_dir, samples=args.samples, seed=args.seed)
    io.atomic_write_json(Path(args.run_dir) / "evaluation.json", result)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        for key in ("reconstruction_accuracy", "validity", "uniqueness"):
            print(f"{key:<24} {100 * result[key]:6.2f} %")
        print(
            f"{'op / edge accuracy':<24} {100 * result['op_accuracy']:6.2f} / "
            f"{100 * result['edge_accuracy']:.2f} %"
        )
        print(
            f"({result['samples']} prior samples, {result['heldout_cells']} held-out cells, "
            f"{result['seconds']} s)"
        )
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    from arch2vec.models.train import read_config, save_embeddings

    space = read_config(args.run_dir).space
    out, emb = save_embeddings(args.run_dir, args.out)
    print(
        f"wrote {emb.shape[0]:,} x {emb.shape[1]} embeddings of {space} to {out}", file=sys.stderr
    )
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from arch2vec.analysis.reproduce import (
        TABLE2_STRATEGIES,
        TABLE3_STRATEGIES,
        table1,
        table2,
        table3,
    )

    if args.table == "table2":
        if not args.file:
            raise ValueError(
                "table2 needs NAS-Bench-101 data: --file FOLDER (the 30,001-cell "
                "subsets) or --file nasbench_only108.tfrecord"
            )
        bench = "nb101" if str(args.file).endswith(".tfrecord") else "nb101-30k"
        out = args.out if args.out != "runs/table1" else "runs/table2"
        strategies = args.strategies or list(TABLE2_STRATEGIES)
        table2(
            out,
            args.file,
            benchmark=bench,
            embeddings=args.embeddings,
            strategies=strategies,
            runs=args.runs,
            workers=args.workers,
            seed=args.seed,
            data_dir=args.data_dir,
            log=lambda msg: print(msg, file=sys.stderr),
        )
        print((Path(out) / "table2.md").read_text(), end="")
        return 0

    if args.table == "table3":
        if not args.file:
            raise ValueError(
                "table3 follows the paper's protocol on a merged NB-201 table: "
                "pass --file nb201_merged.csv"
            )
        out = args.out if args.out != "runs/table1" else "runs/table3"
        table3(
            out,
            args.file,
            embeddings=args.embeddings,
            strategies=args.strategies or list(TABLE3_STRATEGIES),
            datasets=args.datasets,
            runs=args.runs,
            workers=args.workers,
            seed=args.seed,
            log=lambda msg: print(msg, file=sys.stderr),
        )
        print((Path(out) / "table3.md").read_text(), end="")
        return 0

    overrides = {"epochs": args.epochs, "data_dir": args.data_dir, "threads": args.threads}
    table1(
        args.out,
        spaces=args.spaces,
        models=args.models,
        samples=args.samples,
        seed=args.seed,
        overrides={k: v for k, v in overrides.items() if v is not None},
        log=lambda msg: print(msg, file=sys.stderr),
    )
    print((Path(args.out) / "table1.md").read_text(), end="")
    return 0


def _nan_to_none(value: float) -> float | None:
    return None if value != value else round(float(value), 4)


def cmd_bench_list(args: argparse.Namespace) -> int:
    from arch2vec.benchmarks import BENCHMARKS

    rows = [
        {
            "benchmark": name,
            "space": space,
            "needs_file": needs,
            "datasets": list(ds),
            "description": text,
        }
        for name, (space, needs, ds, text) in BENCHMARKS.items()
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    for row in rows:
        file_note = " (--file)" if row["needs_file"] else ""
        print(f"{row['benchmark']:<10} {row['space']:<6} {', '.join(row['datasets'])}{file_note}")
        print(f"           {row['description']}")
    return 0


def _load_benchmark(args: argparse.Namespace):
    from arch2vec import benchmarks

    return benchmarks.load(args.name, args.dataset, args.file, args.data_dir)


def cmd_bench_info(args: argparse.Namespace) -> int:
    bench = _load_benchmark(args)
    info = bench.info()
    info.update(
        {
            "best_search_accuracy": _nan_to_none(bench.best_search),
            "best_valid_accuracy": _nan_to_none(bench.best_valid),
            "best_test_accuracy": _nan_to_none(bench.best_test),
        }
    )
    if args.json:
        print(json.dumps(info, sort_keys=True))
        return 0
    for key, value in info.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        print(f"{key:<22} {value}")
    return 0


def cmd_bench_query(args: argparse.Namespace) -> int:
    bench = _load_benchmark(args)
    space = spaces.get(bench.space, data_dir=args.data_dir)
    index = space.locate(args.arch)
    row = bench.query([index])
    result = {
        "index": index,
        "hash": str(space.hashes()[index]),
        "search_accuracy": _nan_to_none(row["search"][0]),
        "valid_accuracy": _nan_to_none(row["valid"][0]),
        "test_accuracy": _nan_to_none(row["test"][0]),
        "cost_seconds": _nan_to_none(row["cost"][0]),
    }
    for key, values in bench.extras.items():
        result[key] = _nan_to_none(values[index])
    if space.native_key:
        result[space.native_key] = space.to_native(space.all()[index])[0]
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<16} {value if value is not None else 'n/a'}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from arch2vec.analysis.reproduce import demo

    text = demo(
        args.out,
        runs=args.runs,
        queries=args.queries,
        workers=args.workers,
        seed=args.seed,
        log=lambda msg: print(msg, file=sys.stderr),
    )
    print(text, end="")
    return 0


# ------------------------------------------------------------------------------------ analysis


def _embeddings_space(path: str, data_dir: str | None) -> spaces.SearchSpace:
    """The space of a pre-training run dir or of an ``embeddings.npz``."""
    from arch2vec import io
    from arch2vec.models.train import read_config

    p = Path(path)
    if p.is_dir():
        name = read_config(p).space
    elif p.is_file():
        name = io.load_arrays(p)[0].get("space")
    else:
        raise ValueError(f"{path}: no such pre-training run or embeddings file")
    if name not in spaces.SPACES:
        raise ValueError(f"{path}: embeddings of an unknown space {name!r}")
    return spaces.get(name, data_dir=data_dir)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr)


def cmd_analyze_predictive(args: argparse.Namespace) -> int:
    from arch2vec.analysis.predictive import run_predictive

    result = run_predictive(
        args.embeddings,
        args.benchmark,
        args.out,
        train_size=args.train_size,
        seeds=args.seeds,
        threshold=args.threshold,
        seed=args.seed,
        include=args.include,
        min_accuracy=args.min_accuracy,
        dataset=args.dataset,
        file=args.file,
        data_dir=args.data_dir,
        log=None if args.json else _log,
    )
    if args.json:
        print(json.dumps(result["results"], indent=2))
    else:
        print(f"{'representation':<16}{'RMSE (fraction)':>22}{'Pearson r':>18}")
        for name, r in result["results"].items():
            rmse = f"{r['rmse_fraction']:.4f} ± {r['rmse_fraction_std']:.4f}"
            corr = f"{r['pearson_r']:.3f} ± {r['pearson_r_std']:.3f}"
            print(f"{name:<16}{rmse:>22}{corr:>18}")
        print(f"wrote {Path(args.out) / 'predictive.json'} and predictive.png")
    return 0


def cmd_analyze_smoothness(args: argparse.Namespace) -> int:
    from arch2vec.analysis.smoothness import run_smoothness
    from arch2vec.search.runner import load_embeddings

    space = _embeddings_space(args.embeddings, args.data_dir)
    embeddings = {"arch2vec": load_embeddings(args.embeddings, space)}
    if args.benchmark:
        from arch2vec import benchmarks
        from arch2vec.analysis.predictive import supervised_embedding

        bench = benchmarks.load(args.benchmark, args.dataset, args.file, args.data_dir)
        if bench.space != space.name:
            raise ValueError(f"benchmark {args.benchmark} is of {bench.space}, not {space.name}")
        pool = bench.pool[np.isfinite(bench.valid[bench.pool])]
        size = min(args.train_size, len(pool))
        train = np.sort(np.random.default_rng(args.seed).choice(pool, size, replace=False))
        if not args.json:
            _log(f"training the supervised encoder on {size} cells of {bench.name}")
        embeddings["supervised"] = supervised_embedding(
            space, space.all(), train, bench.valid[train], seed=args.seed
        )
    result = run_smoothness(
        embeddings,
        space,
        args.out,
        walk_length=args.walk_length,
        nn_starts=args.starts,
        nn_steps=args.steps,
        seed=args.seed,
    )
    if args.json:
        brief = {
            name: {
                "nn_walk_mean_edit_distance": r["nn_walk"]["mean_edit_distance"],
                "nn_walk_std_edit_distance": r["nn_walk"]["std_edit_distance"],
                "spearman_l2_vs_edit": r["spearman_l2_vs_edit"],
                "distance_by_edit": r["distance_by_edit"],
            }
            for name, r in result["embeddings"].items()
        }
        print(json.dumps(brief, indent=2))
    else:
        for name, r in result["embeddings"].items():
            nn = r["nn_walk"]
            print(
                f"{name}: nearest-neighbour walk, edit distance per step "
                f"{nn['mean_edit_distance']:.2f} ± {nn['std_edit_distance']:.2f}"
            )
        print(f"wrote {Path(args.out) / 'smoothness.json'} and the plots")
    return 0


def cmd_analyze_tsne(args: argparse.Namespace) -> int:
    from arch2vec.analysis.tsne import run_tsne

    result = run_tsne(
        args.embeddings,
        args.benchmark,
        args.out,
        n=args.n,
        seed=args.seed,
        perplexity=args.perplexity,
        dataset=args.dataset,
        file=args.file,
        data_dir=args.data_dir,
    )
    if args.json:
        print(json.dumps({k: result[k] for k in ("config", "kl_divergence", "seconds")}))
    else:
        print(f"t-SNE of {len(result['indices'])} cells in {result['seconds']:.0f} s")
        print(f"wrote {Path(args.out) / 'tsne.json'} and tsne.png")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from arch2vec.analysis.report import build_report

    path = build_report(args.dirs, args.out, fmt=args.format)
    print(json.dumps({"report": str(path)}) if args.json else f"wrote {path}")
    return 0


def _hyper_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_hyper(args: argparse.Namespace) -> dict[str, Any]:
    hyper = {}
    for item in args.hyper or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--hyper {item!r}: expected KEY=VALUE")
        hyper[key.replace("-", "_")] = _hyper_value(value)
    if args.ei_target is not None:
        hyper["ei_target"] = args.ei_target
    return hyper


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, sort_keys=True))
    else:
        for key, value in summary.items():
            if not isinstance(value, list | dict):
                print(f"{key:<24} {value}")


def cmd_search(args: argparse.Namespace) -> int:
    from arch2vec.search.runner import ExperimentConfig, run_experiment

    hyper = _parse_hyper(args)
    if args.evaluator:
        return _search_with_evaluator(args, hyper)
    config = ExperimentConfig(
        strategy=args.strategy,
        benchmark=args.benchmark,
        dataset=args.dataset,
        file=args.file,
        embeddings=args.embeddings,
        runs=args.runs,
        budget_seconds=args.budget_seconds,
        budget_queries=args.budget_queries,
        seed=args.seed,
        hyper=hyper,
        data_dir=args.data_dir,
    )
    if args.space and args.space != _benchmark_space(args.benchmark):
        raise ValueError(
            f"benchmark {args.benchmark} is on {_benchmark_space(args.benchmark)}, not {args.space}"
        )
    summary = run_experiment(
        config,
        args.out,
        workers=args.workers,
        resume=args.resume,
        progress=not args.json,
        executor=args.executor,
        address=args.address,
    )
    _print_summary(summary, args.json)
    return 0


def _search_with_evaluator(args: argparse.Namespace, hyper: dict[str, Any]) -> int:
    """``arch2vec search --evaluator nb301|train``: the DARTS pool scored by a surrogate or by
    training, ``--budget-queries`` cells per run."""
    from arch2vec.search.evaluate import search_with_evaluator
    from arch2vec.search.executor import make_executor
    from arch2vec.search.runner import load_embeddings, strategy_class

    if args.budget_queries is None:
        raise ValueError("--evaluator searches take --budget-queries (cells per run)")
    space = spaces.get(args.space or "darts", data_dir=args.data_dir)
    if args.evaluator == "nb301":
        from arch2vec.benchmarks.nb301 import NB301Evaluator

        if not args.surrogate_dir:
            raise ValueError("--evaluator nb301 needs --surrogate-dir (the YAHPO nb301 folder)")
        evaluator = NB301Evaluator(args.surrogate_dir)
    else:
        from arch2vec.benchmarks.training import TrainingEvaluator

        if not args.data:
            raise ValueError("--evaluator train needs --data (a CIFAR-10 python-pickle folder)")
        evaluator = TrainingEvaluator(
            args.data,
            epochs=args.epochs,
            layers=args.layers,
            channels=args.channels,
            batch_size=args.batch_size,
            seed=args.seed,
            device=args.device,
        )
    if evaluator.space != space.name:
        raise ValueError(f"evaluator {evaluator.name} scores {evaluator.space}, not {space.name}")
    features = None
    if strategy_class(args.strategy).needs_features:
        if not args.embeddings:
            raise ValueError(f"strategy {args.strategy} needs --embeddings (a pre-training run)")
        features = load_embeddings(args.embeddings, space)
    executor = make_executor(args.executor, args.workers or 1, args.address)
    try:
        summary = search_with_evaluator(
            args.strategy,
            space,
            features,
            evaluator,
            args.out,
            runs=args.runs,
            queries=args.budget_queries,
            seed=args.seed,
            hyper=hyper,
            executor=executor,
            resume=args.resume,
            progress=not args.json,
        )
    finally:
        executor.shutdown()
    _print_summary(summary, args.json)
    return 0


def cmd_darts_eval(args: argparse.Namespace) -> int:
    from arch2vec.benchmarks.training import final_evaluation

    genotype = args.genotype
    if args.run:  # the best cell of a search made with --evaluator
        summary = json.loads((Path(args.run) / "summary.json").read_text())
        genotype = summary["best"]["genotype"]
    if not genotype:
        raise ValueError("give --genotype TEXT or --run DIR (a search with --evaluator)")
    record = final_evaluation(
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
        log=None if args.json else lambda e: _log(json.dumps(e, default=str)),
    )
    record = {**record, "arch2vec": __version__}
    if args.out:
        io.atomic_write_json(Path(args.out), record)
    if args.json:
        print(json.dumps(record, default=str))
    else:
        print(f"genotype {genotype}")
        print(f"test accuracy {record['test_accuracy_final']:.2f} %, {record['params']:,} params")
    return 0


def _benchmark_space(name: str) -> str:
    from arch2vec.benchmarks import BENCHMARKS

    return BENCHMARKS[name][0] if name in BENCHMARKS else "?"


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

    _add_model_commands(commands)
    _add_bench_commands(commands)
    _add_search_command(commands)
    _add_analysis_commands(commands)
    d = commands.add_parser(
        "demo",
        help="the whole pipeline on the embedded NB-201 data (a few minutes)",
        description="Pre-train arch2vec on NAS-Bench-201 and print its Table 1 row, then run "
        "arch2vec-BO, arch2vec-RL and random search on CIFAR-10 and print a table and a regret "
        "plot (OUT/regret.png). Finished steps are reused when run again.",
    )
    d.add_argument("--out", default="runs/demo", metavar="DIR", help="(default: runs/demo)")
    d.add_argument("--runs", type=_positive, default=20, help="runs per strategy (default: 20)")
    d.add_argument("--queries", type=_positive, default=100, help="cells per run (default: 100)")
    d.add_argument("--workers", type=_positive, help="processes (default: one per core)")
    d.add_argument("--seed", type=int, default=0, help="(default: 0)")
    d.set_defaults(func=cmd_demo)
    return parser


def _add_analysis_commands(commands) -> None:
    from arch2vec.analysis.predictive import INCLUDE
    from arch2vec.benchmarks import BENCHMARKS

    an = commands.add_parser(
        "analyze",
        help="why the latent space helps: predictive GP, smoothness, t-SNE",
        description="Analyses of pre-trained embeddings; each writes PNG plots and a JSON of the "
        "numbers behind them into --out.",
    )
    sub = an.add_subparsers(dest="analyze_command", metavar="ANALYSIS", required=True)

    def common(p: argparse.ArgumentParser, out: str, benchmark_required: bool) -> None:
        p.add_argument(
            "--embeddings",
            required=True,
            metavar="RUN_DIR",
            help="pre-training run (or embeddings .npz written by arch2vec embed)",
        )
        p.add_argument(
            "--benchmark",
            required=benchmark_required,
            choices=list(BENCHMARKS),
            help="accuracies of the cells (e.g. nb201, nb201-csv, nb101-30k)",
        )
        p.add_argument("--dataset", help="cifar10 (default), cifar100, imagenet16-120")
        p.add_argument("--file", metavar="F", help="data file of benchmarks that read one")
        p.add_argument("--out", default=out, metavar="DIR", help=f"(default: {out})")
        p.add_argument("--seed", type=int, default=0, help="(default: 0)")
        p.add_argument("--data-dir", metavar="DIR", help="cache directory of the spaces")
        p.add_argument("--json", action="store_true", help="print the numbers as JSON")

    pr = sub.add_parser(
        "predictive",
        help="GP on embeddings: RMSE and Pearson r (paper Figure 1)",
        description="A Gaussian process (scikit-learn) fit on --train-size sampled cells predicts "
        "the validation accuracy of every cell; RMSE and Pearson r on the cells above "
        "--threshold, mean and std over --seeds, for the arch2vec embedding, a supervised one "
        "(the same GIN trained on the training cells' accuracies) and the flat adjacency+ops "
        "encoding. Writes predictive.json and predictive.png (predicted vs true).",
    )
    common(pr, "runs/analysis/predictive", True)
    pr.add_argument("--train-size", type=_positive, default=250, help="(default: 250)")
    pr.add_argument("--seeds", type=_positive, default=10, help="repetitions (default: 10)")
    pr.add_argument(
        "--threshold",
        type=float,
        default=80.0,
        help="score cells with accuracy above this, percent (default: 80)",
    )
    pr.add_argument(
        "--min-accuracy",
        type=float,
        metavar="ACC",
        help="leave cells below ACC percent out of the pool (e.g. 50: no diverged cells in the "
        "training set); default: keep all, as the paper",
    )
    pr.add_argument(
        "--include",
        nargs="+",
        choices=list(INCLUDE),
        default=list(INCLUDE),
        help="representations to compare (default: all)",
    )
    pr.set_defaults(func=cmd_analyze_predictive)

    sm = sub.add_parser(
        "smoothness",
        help="latent distance vs edit distance; nearest-neighbour walks (paper Figures 2, 3)",
        description="(a) A random walk whose consecutive cells are one edit apart; the latent L2 "
        "distance of all its pairs grouped by edit distance (box plot). (b) Walks from random "
        "cells to the nearest unvisited cell in the latent space, the edit distance of each step, "
        "and the first walk drawn as DAGs. With --benchmark, a supervised embedding (the GIN "
        "trained on --train-size cells' accuracies) is compared too.",
    )
    common(sm, "runs/analysis/smoothness", False)
    sm.add_argument("--walk-length", type=_positive, default=1000, help="(default: 1000)")
    sm.add_argument("--starts", type=_positive, default=10, help="NN walks (default: 10)")
    sm.add_argument("--steps", type=_positive, default=15, help="steps per NN walk (default: 15)")
    sm.add_argument(
        "--train-size",
        type=_positive,
        default=250,
        help="cells the supervised encoder learns from (default: 250)",
    )
    sm.set_defaults(func=cmd_analyze_smoothness)

    ts = sub.add_parser(
        "tsne",
        help="2-D t-SNE map coloured by accuracy (paper Figure 4)",
        description="t-SNE (scikit-learn) of --n embeddings of cells the benchmark covers, "
        "coloured by validation accuracy. Writes tsne.json and tsne.png.",
    )
    common(ts, "runs/analysis/tsne", True)
    ts.add_argument("--n", type=_positive, default=10_000, help="cells (default: 10000)")
    ts.add_argument("--perplexity", type=float, default=30.0, help="(default: 30)")
    ts.set_defaults(func=cmd_analyze_tsne)

    de = commands.add_parser(
        "darts-eval",
        help="train a DARTS cell at evaluation size and report its test accuracy",
        description="The DARTS final evaluation: the cell as normal and reduction cell, 20 cells "
        "of 36 channels, cutout, auxiliary head and drop path, trained on the whole CIFAR-10 "
        "training set for --epochs and tested on the test set (the paper: 600 epochs on a GPU). "
        "Takes the genotype as text or the best cell of a search made with --evaluator.",
    )
    de.add_argument("--genotype", metavar="TEXT", help="DARTS genotype, e.g. from summary.json")
    de.add_argument("--run", metavar="DIR", help="a search with --evaluator: its best cell")
    de.add_argument("--data", required=True, metavar="DIR", help="CIFAR-10 python-pickle folder")
    de.add_argument("--epochs", type=_positive, default=600, help="(default: 600)")
    de.add_argument("--layers", type=_positive, default=20, help="(default: 20)")
    de.add_argument("--channels", type=_positive, default=36, help="(default: 36)")
    de.add_argument("--batch-size", type=_positive, default=96, help="(default: 96)")
    de.add_argument("--no-cutout", action="store_true", help="train without cutout")
    de.add_argument("--auxiliary-weight", type=float, default=0.4, help="(default: 0.4)")
    de.add_argument("--drop-path", type=float, default=0.2, help="(default: 0.2)")
    de.add_argument("--device", default="auto", help="auto (GPU if any), cpu, cuda")
    de.add_argument("--seed", type=int, default=0, help="(default: 0)")
    de.add_argument("--out", metavar="FILE", help="write the record as JSON")
    de.add_argument("--json", action="store_true", help="print the record as JSON")
    de.set_defaults(func=cmd_darts_eval)

    rp = commands.add_parser(
        "report",
        help="compare search experiments: regret curves, ECDF, tables (HTML or Markdown)",
        description="For search experiment folders (written by arch2vec search / reproduce): mean "
        "regret vs simulated time and vs queries with 95%% bands, the empirical CDF of final "
        "regret (paper Figure 5) and a summary table, grouped by benchmark and dataset.",
    )
    rp.add_argument("dirs", nargs="+", metavar="DIR", help="experiment directories")
    rp.add_argument("--out", default="runs/report", metavar="DIR", help="(default: runs/report)")
    rp.add_argument(
        "--format",
        choices=["html", "markdown"],
        default="html",
        help="html: one self-contained file; markdown: report.md linking the PNGs",
    )
    rp.add_argument("--json", action="store_true", help="print the report path as JSON")
    rp.set_defaults(func=cmd_report)


def _add_search_command(commands) -> None:
    from arch2vec.benchmarks import BENCHMARKS
    from arch2vec.search.runner import STRATEGIES

    s = commands.add_parser(
        "search",
        help="run a search strategy many times on a benchmark",
        description="Independent seeded runs (run r uses seed S + r) in parallel processes; each "
        "finished run is appended to OUT/runs.jsonl, the summary goes to OUT/summary.json.",
    )
    s.add_argument(
        "--space", choices=sorted(spaces.SPACES), help="(optional) the benchmark's space, checked"
    )
    s.add_argument(
        "--benchmark",
        default="nb201",
        choices=list(BENCHMARKS),
        help="(default: nb201, the embedded NB-201 data)",
    )
    s.add_argument("--dataset", help="cifar10 (default), cifar100, imagenet16-120")
    s.add_argument("--file", metavar="F", help="data file of benchmarks that read one")
    s.add_argument("--strategy", required=True, choices=list(STRATEGIES))
    s.add_argument(
        "--embeddings",
        metavar="RUN_DIR",
        help="pre-training run (or embeddings .npz) for arch2vec-bo / arch2vec-rl",
    )
    s.add_argument("--runs", type=_positive, default=10, help="independent runs (default: 10)")
    budget = s.add_mutually_exclusive_group(required=True)
    budget.add_argument(
        "--budget-seconds", type=float, metavar="T", help="simulated training seconds per run"
    )
    budget.add_argument(
        "--budget-queries", type=_positive, metavar="Q", help="distinct cells per run"
    )
    s.add_argument(
        "--workers",
        type=_positive,
        help="processes (default: one per core; with --evaluator: evaluations at once, 1)",
    )
    s.add_argument(
        "--hyper",
        action="append",
        metavar="KEY=VALUE",
        help="strategy hyper-parameter, repeatable (e.g. top_k=5, gamma=0.4)",
    )
    s.add_argument(
        "--ei-target",
        type=float,
        metavar="ACC",
        help="arch2vec-bo: fixed EI target in percent (paper: 95 NB-101, 100 NB-201); "
        "default: the incumbent",
    )
    s.add_argument("--out", required=True, metavar="DIR", help="experiment directory")
    s.add_argument("--seed", type=int, default=0, help="seed of run 0 (default: 0)")
    s.add_argument("--resume", action="store_true", help="continue, skipping finished runs")
    s.add_argument("--data-dir", metavar="DIR", help="cache directory of the spaces")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="where runs (and with --evaluator, each batch's evaluations) execute: local "
        "processes (default) or Ray tasks (pip install 'arch2vec[ray]')",
    )
    s.add_argument(
        "--address", metavar="ADDR", help="Ray cluster address (default: start a local Ray)"
    )
    ev = s.add_argument_group(
        "DARTS with an evaluator (instead of a table benchmark)",
        "--evaluator scores the DARTS pool's cells as they are proposed; --budget-queries cells "
        "per run; each evaluated cell is written to OUT/run_NNNN.jsonl at once; OUT/summary.json "
        "names the best genotype and OUT/best_cell.png draws it.",
    )
    ev.add_argument(
        "--evaluator",
        choices=["nb301", "train"],
        help="nb301: the NAS-Bench-301 surrogate (needs --surrogate-dir, pip install "
        "'arch2vec[nb301]'); train: train each cell on CIFAR-10 (needs --data)",
    )
    ev.add_argument("--surrogate-dir", metavar="DIR", help="YAHPO Gym v2 nb301 folder")
    ev.add_argument("--data", metavar="DIR", help="CIFAR-10 python-pickle folder (train)")
    ev.add_argument("--epochs", type=_positive, default=50, help="train: epochs (default: 50)")
    ev.add_argument("--layers", type=_positive, default=20, help="train: cells (default: 20)")
    ev.add_argument("--channels", type=_positive, default=36, help="train: (default: 36)")
    ev.add_argument("--batch-size", type=_positive, default=96, help="train: (default: 96)")
    ev.add_argument("--device", default="auto", help="train: auto (GPU if any), cpu, cuda")
    s.set_defaults(func=cmd_search)


def _add_bench_commands(commands) -> None:
    from arch2vec.benchmarks import BENCHMARKS

    bench = commands.add_parser(
        "bench",
        help="tabular benchmarks: list, describe, query",
        description="Real NAS benchmark data: accuracies (percent) and training cost (seconds).",
    )
    sub = bench.add_subparsers(dest="bench_command", metavar="SUBCOMMAND", required=True)
    lst = sub.add_parser(
        "list",
        help="the benchmarks arch2vec reads",
        description="List the benchmarks, their spaces and datasets.",
    )
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=cmd_bench_list)

    def options(p: argparse.ArgumentParser) -> None:
        p.add_argument("name", choices=list(BENCHMARKS), help="the benchmark")
        p.add_argument("--dataset", help="cifar10 (default), cifar100 or imagenet16-120 (NB-201)")
        p.add_argument(
            "--file",
            metavar="F",
            help="data file the benchmark reads (nb201-csv: CSV; nb101: "
            "nasbench_only108.tfrecord; nb101-30k: subset JSON file or folder)",
        )
        p.add_argument("--data-dir", metavar="DIR", help="cache directory of the spaces")
        p.add_argument("--json", action="store_true", help="print JSON")

    info = sub.add_parser(
        "info",
        help="cells covered, optimum and ranges",
        description="Cells covered, best accuracies and value ranges.",
    )
    options(info)
    info.set_defaults(func=cmd_bench_info)
    query = sub.add_parser(
        "query",
        help="look one cell up",
        description="Look up one cell, named by arch string (NB-201), 32-hex hash or pool "
        "index. JSON keys: search_accuracy, valid_accuracy, test_accuracy (null where the "
        "source has none), cost_seconds.",
    )
    options(query)
    query.add_argument("arch", metavar="ARCH", help="arch string, hash or pool index")
    query.set_defaults(func=cmd_bench_query)


def _add_model_commands(commands) -> None:
    from arch2vec.models.vgae import MODELS
    from arch2vec.search.runner import STRATEGIES

    pre = commands.add_parser(
        "pretrain",
        help="pre-train an autoencoder on a space (no accuracies needed)",
        description="Train arch2vec (variational GIN autoencoder) or the GAE / VGAE baselines on "
        "90%% of a space's cells (split by --seed), checkpointing after every epoch.",
    )
    pre.add_argument("--space", required=True, choices=sorted(spaces.SPACES))
    pre.add_argument("--model", default="arch2vec", choices=MODELS, help="(default: arch2vec)")
    pre.add_argument(
        "--epochs",
        type=_positive,
        help="(default: 4 nb101, 10 nb201, 24 darts; three times that for gae/vgae, "
        "whose epochs cost about a third)",
    )
    pre.add_argument(
        "--batch-size", type=_positive, help="cells per step (default: 256 nb101/darts, 32 nb201)"
    )
    pre.add_argument(
        "--lr", type=float, help="Adam learning rate (default: 3e-3 nb101/darts, 1e-3 nb201)"
    )
    pre.add_argument("--beta", type=float, help="weight of the KL term (default: 0.005)")
    pre.add_argument(
        "--dropout",
        type=float,
        help="dropout on z before decoding (default: 0.1 nb101/darts, 0.3 nb201)",
    )
    pre.add_argument(
        "--threads", type=_positive, help="torch threads (default: 1 below batch 128, else 2)"
    )
    pre.add_argument("--samples", type=_positive, help="DARTS pool size (default: 600000)")
    pre.add_argument("--pool-seed", type=int, help="DARTS pool seed (default: 0)")
    pre.add_argument(
        "--seed", type=int, default=0, help="split, initialisation, shuffling (default: 0)"
    )
    pre.add_argument(
        "--out", metavar="RUN_DIR", help="run directory (default: runs/SPACE-MODEL-seedS)"
    )
    pre.add_argument(
        "--resume", action="store_true", help="continue the run in RUN_DIR from its last checkpoint"
    )
    pre.add_argument("--data-dir", metavar="DIR", help="cache directory of the spaces")
    pre.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    pre.set_defaults(func=cmd_pretrain)

    ev = commands.add_parser(
        "evaluate",
        help="Table 1 metrics of a pre-trained model",
        description="Reconstruction accuracy on the held-out cells, validity of decoded prior "
        "samples and uniqueness among the valid ones (fractions in --json, percent in text); "
        "also written to RUN_DIR/evaluation.json.",
    )
    ev.add_argument("run_dir", metavar="RUN_DIR")
    ev.add_argument("--samples", type=int, default=10_000, help="prior samples (default: 10000)")
    ev.add_argument("--seed", type=int, default=0, help="seed of the prior samples (default: 0)")
    ev.add_argument("--json", action="store_true", help="print JSON")
    ev.set_defaults(func=cmd_evaluate)

    em = commands.add_parser(
        "embed",
        help="embed every cell of the space",
        description="Write the embedding (mean of the node means over real nodes) of every cell "
        "of the run's space, with its pool index and hash, to an .npz file (arrays "
        "embeddings, index, hash).",
    )
    em.add_argument("run_dir", metavar="RUN_DIR")
    em.add_argument("--out", metavar="FILE", help="(default: RUN_DIR/embeddings.npz)")
    em.set_defaults(func=cmd_embed)

    rp = commands.add_parser(
        "reproduce",
        help="regenerate one of the paper's tables",
        description="table1: pre-train and evaluate each model on each space and write "
        "OUT/table1.md with the paper's numbers beside ours. table3: the NB-201 search "
        "comparison with the paper's protocol and budgets (needs --file, the merged NB-201 "
        "table), OUT/table3.md. table2: NAS-Bench-101 search with the paper's 1e6 s budget on "
        "--file (the 30,001-cell subsets folder, or the official TFRecord). Killed runs resume.",
    )
    rp.add_argument("table", choices=["table1", "table2", "table3"])
    rp.add_argument(
        "--spaces", nargs="+", default=["nb101", "nb201", "darts"], choices=sorted(spaces.SPACES)
    )
    rp.add_argument("--models", nargs="+", default=["gae", "vgae", "arch2vec"], choices=MODELS)
    rp.add_argument("--epochs", type=_positive, help="override every run's epochs")
    rp.add_argument("--threads", type=_positive, help="torch threads")
    rp.add_argument("--samples", type=int, default=10_000, help="prior samples (default: 10000)")
    rp.add_argument("--seed", type=int, default=0, help="(default: 0)")
    rp.add_argument(
        "--out", default="runs/table1", metavar="DIR", help="(default: runs/table1 or runs/table3)"
    )
    rp.add_argument(
        "--file",
        metavar="F",
        help="table3: the merged NB-201 table (CSV); "
        "table2: the NB-101 subsets folder or the official TFRecord",
    )
    rp.add_argument(
        "--embeddings",
        metavar="RUN_DIR",
        help="table2/table3: pre-training run of the space (default: train one into OUT)",
    )
    rp.add_argument(
        "--strategies",
        nargs="+",
        choices=list(STRATEGIES),
        help="table2/table3 strategies (default: the paper's)",
    )
    rp.add_argument(
        "--datasets",
        nargs="+",
        default=["cifar10", "cifar100", "imagenet16-120"],
        help="table3 datasets",
    )
    rp.add_argument("--runs", type=_positive, default=500, help="table2/table3 runs (default: 500)")
    rp.add_argument(
        "--workers", type=_positive, help="table2/table3 processes (default: one per core)"
    )
    rp.add_argument("--data-dir", metavar="DIR", help="cache directory of the spaces")
    rp.set_defaults(func=cmd_reproduce)


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
