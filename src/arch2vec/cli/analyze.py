"""``arch2vec analyze predictive|predictors|smoothness|tsne`` and ``arch2vec report``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from arch2vec.cli.common import benchmark_of, log, parent, positive, print_json

PREDICTORS_OUT = "runs/analysis/predictors"


def cmd_predictive(args: argparse.Namespace) -> int:
    from arch2vec.analysis.predictive import run_predictive

    result = run_predictive(
        args.embeddings,
        benchmark_of(args, embeddings=args.embeddings),
        args.out,
        train_size=args.train_size,
        seeds=args.seeds,
        threshold=args.threshold,
        seed=args.seed,
        **({"include": args.include} if args.include else {}),
        min_accuracy=args.min_accuracy,
        data_dir=args.data_dir,
        progress=not args.json,
    )
    if args.json:
        print_json(result["results"], indent=2)
        return 0
    print(f"{'representation':<16}{'RMSE (fraction)':>22}{'Pearson r':>18}")
    for name, r in result["results"].items():
        rmse = f"{r['rmse_fraction']:.4f} ± {r['rmse_fraction_std']:.4f}"
        corr = f"{r['pearson_r']:.3f} ± {r['pearson_r_std']:.3f}"
        print(f"{name:<16}{rmse:>22}{corr:>18}")
    print(f"wrote {Path(args.out) / 'predictive.json'} and predictive.png")
    return 0


def cmd_predictors(args: argparse.Namespace) -> int:
    from arch2vec.analysis.predictors import (
        INCLUDE,
        REGRESSORS,
        embeddings_by_name,
        run_predictors,
        table_rows,
    )

    first = next(iter(embeddings_by_name(args.embeddings).values()), None)
    result = run_predictors(
        args.embeddings,
        benchmark_of(args, embeddings=first),
        args.out,
        train_sizes=args.train_sizes,
        seeds=args.seeds,
        regressors=args.regressors or tuple(REGRESSORS),
        include=INCLUDE if args.include is None else args.include,
        seed=args.seed,
        data_dir=args.data_dir,
        progress=not args.json,
        functional=args.functional,
    )
    if args.json:
        print_json(result["results"], indent=2)
        return 0
    sizes = [str(s) for s in result["config"]["train_sizes"]]
    print(f"Kendall tau, mean ± std over {result['config']['seeds']} seeds, by training cells")
    rows = table_rows(result)
    width = max([len("representation"), *(len(r["representation"]) for r in rows)]) + 2
    print(f"{'representation':<{width}}{'regressor':<10}" + "".join(f"{s:>14}" for s in sizes))
    for row in rows:
        cells = "".join(f"{_pm(*row[s]):>14}" for s in sizes)
        print(f"{row['representation']:<{width}}{row['regressor']:<10}{cells}")
    print(f"wrote {Path(args.out) / 'predictors.json'} and predictors.png")
    return 0


def _pm(mean: float | None, std: float | None) -> str:
    if mean is None or mean != mean:
        return "n/a"
    return f"{mean:.3f} ± {std:.3f}"


def cmd_smoothness(args: argparse.Namespace) -> int:
    from arch2vec.analysis.smoothness import smoothness_of_run

    result = smoothness_of_run(
        args.embeddings,
        args.out,
        benchmark=benchmark_of(args, embeddings=args.embeddings),
        data_dir=args.data_dir,
        train_size=args.train_size,
        walk_length=args.walk_length,
        nn_starts=args.starts,
        nn_steps=args.steps,
        seed=args.seed,
        log=None if args.json else log,
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
        print_json(brief, indent=2)
        return 0
    for name, r in result["embeddings"].items():
        nn = r["nn_walk"]
        print(
            f"{name}: nearest-neighbour walk, edit distance per step "
            f"{nn['mean_edit_distance']:.2f} ± {nn['std_edit_distance']:.2f}"
        )
    print(f"wrote {Path(args.out) / 'smoothness.json'} and the plots")
    return 0


def cmd_tsne(args: argparse.Namespace) -> int:
    from arch2vec.analysis.tsne import run_tsne

    result = run_tsne(
        args.embeddings,
        benchmark_of(args, embeddings=args.embeddings),
        args.out,
        n=args.n,
        seed=args.seed,
        perplexity=args.perplexity,
        data_dir=args.data_dir,
    )
    if args.json:
        print_json({k: result[k] for k in ("config", "kl_divergence", "seconds")})
    else:
        print(f"t-SNE of {len(result['indices'])} cells in {result['seconds']:.0f} s")
        print(f"wrote {Path(args.out) / 'tsne.json'} and tsne.png")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from arch2vec.analysis.report import build_report

    path = build_report(args.dirs, args.out, fmt=args.format)
    if args.json:
        print_json({"report": str(path)})
    else:
        print(f"wrote {path}")
    return 0


def add(commands: Any) -> None:
    an = commands.add_parser(
        "analyze",
        help="why the latent space helps: predictive GP, smoothness, t-SNE",
        description="Analyses of pre-trained embeddings; each writes PNG plots and a JSON of the "
        "numbers behind them into --out.",
    )
    sub = an.add_subparsers(dest="analyze_command", metavar="ANALYSIS", required=True)

    def common(out: str, benchmark_required: bool) -> argparse.ArgumentParser:
        p = parent("benchmark", "seed", "data_dir", "json", "out", out=out)
        p.add_argument(
            "--embeddings",
            required=True,
            metavar="RUN_DIR",
            help="pre-training run (or embeddings .npz written by arch2vec embed)",
        )
        p.add_argument(
            "--benchmark",
            required=benchmark_required,
            help="accuracies of the cells (e.g. nb201, nb201-csv, nb101-30k)",
        )
        return p

    pr = sub.add_parser(
        "predictive",
        parents=[common("runs/analysis/predictive", True)],
        help="GP on embeddings: RMSE and Pearson r (paper Figure 1)",
        description="A Gaussian process (scikit-learn) fit on --train-size sampled cells predicts "
        "the validation accuracy of every cell; RMSE and Pearson r on the cells above "
        "--threshold, mean and std over --seeds, for the arch2vec embedding, a supervised one "
        "(the same GIN trained on the training cells' accuracies) and the flat adjacency+ops "
        "encoding. Writes predictive.json and predictive.png (predicted vs true).",
    )
    pr.add_argument("--train-size", type=positive, default=250, help="(default: 250)")
    pr.add_argument("--seeds", type=positive, default=10, help="repetitions (default: 10)")
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
        metavar="NAME",
        help="representations to compare: arch2vec, supervised, flat (default: all)",
    )
    pr.set_defaults(func=cmd_predictive)

    pd = sub.add_parser(
        "predictors",
        parents=[parent("benchmark", "seed", "data_dir", "json", "out", out=PREDICTORS_OUT)],
        help="predictor benchmark: rank correlation against training size (issue 15)",
        description="Every representation (each --embeddings, and the flat, path and "
        "supervised encodings of --include) with every regressor of --regressors is trained on "
        "each of --train-sizes random cells of the benchmark's pool and predicts the validation "
        "accuracy of all the other cells: Kendall tau, Spearman rho, Pearson r, RMSE and the "
        "precision of the top 5 %, mean and std over --seeds draws of the training cells (one "
        "draw shared by every pair). Writes predictors.json (every number) and predictors.png "
        "(Kendall tau against training size).",
    )
    pd.add_argument(
        "--embeddings",
        action="append",
        metavar="[NAME=]RUN",
        help="a pre-training run (arch2vec, GAE, VGAE) or embeddings .npz of arch2vec embed, "
        "named NAME or after its run directory; repeatable, all of one space",
    )
    pd.add_argument(
        "--benchmark",
        required=True,
        help="accuracies of the cells (e.g. nb201, nb201-csv, nb101-30k)",
    )
    pd.add_argument(
        "--train-sizes",
        type=positive,
        nargs="+",
        default=[16, 32, 64, 128, 256, 512, 1024],
        metavar="N",
        help="training cells (default: 16 32 64 128 256 512 1024)",
    )
    pd.add_argument(
        "--seeds", type=positive, default=10, help="draws of the training cells (default: 10)"
    )
    pd.add_argument(
        "--regressors",
        nargs="+",
        choices=["gp", "dngo", "gbt", "mlp"],
        metavar="NAME",
        help="gp (Gaussian process), dngo (Bayesian linear regression on a network's features), "
        "gbt (histogram gradient boosting), mlp (ensemble of 5 networks); default: all",
    )
    pd.add_argument(
        "--include",
        nargs="*",
        choices=["flat", "path", "supervised", "finetuned", "ensemble"],
        metavar="NAME",
        help="encodings compared with the embeddings: flat (adjacency + one-hot ops), path "
        "(BANANAS paths), supervised (GIN trained on the training cells), finetuned (each "
        "arch2vec run's encoder fine-tuned on the training cells), ensemble (five such GINs "
        "with a ranking loss, predicting through their own heads: regressor 'own'); the last "
        "two only when named; default: flat path supervised; none: the embeddings only",
    )
    pd.add_argument(
        "--functional",
        action="store_true",
        help="cells as the networks they build: flat, path and the GINs read each cell's "
        "canonical form (NB-201: ops no input-to-output path uses set to none) and "
        "predictions are averaged over the cells that build one network (default: off)",
    )
    pd.set_defaults(func=cmd_predictors)

    sm = sub.add_parser(
        "smoothness",
        parents=[common("runs/analysis/smoothness", False)],
        help="latent distance vs edit distance; nearest-neighbour walks (paper Figures 2, 3)",
        description="(a) A random walk whose consecutive cells are one edit apart; the latent L2 "
        "distance of all its pairs grouped by edit distance (box plot). (b) Walks from random "
        "cells to the nearest unvisited cell in the latent space, the edit distance of each step, "
        "and the first walk drawn as DAGs. With --benchmark, a supervised embedding (the GIN "
        "trained on --train-size cells' accuracies) is compared too.",
    )
    sm.add_argument("--walk-length", type=positive, default=1000, help="(default: 1000)")
    sm.add_argument("--starts", type=positive, default=10, help="NN walks (default: 10)")
    sm.add_argument("--steps", type=positive, default=15, help="steps per NN walk (default: 15)")
    sm.add_argument(
        "--train-size",
        type=positive,
        default=250,
        help="cells the supervised encoder learns from (default: 250)",
    )
    sm.set_defaults(func=cmd_smoothness)

    ts = sub.add_parser(
        "tsne",
        parents=[common("runs/analysis/tsne", True)],
        help="2-D t-SNE map coloured by accuracy (paper Figure 4)",
        description="t-SNE (openTSNE: FFT gradients from 10,000 cells, Barnes-Hut below, PCA "
        "initialisation, 250 iterations of "
        "early exaggeration and 250 more) of --n embeddings of cells the benchmark covers, "
        "coloured by validation accuracy. Writes tsne.json and tsne.png.",
    )
    ts.add_argument("--n", type=positive, default=10_000, help="cells (default: 10000)")
    ts.add_argument("--perplexity", type=float, default=30.0, help="(default: 30)")
    ts.set_defaults(func=cmd_tsne)

    rp = commands.add_parser(
        "report",
        parents=[parent("json", "out", out="runs/report")],
        help="compare search experiments: regret curves, ECDF, tables (HTML or Markdown)",
        description="For search experiment folders (written by arch2vec search / reproduce, on "
        "a table, the NB-301 surrogate or training): mean regret vs simulated time and vs "
        "queries with 95% bands, the empirical CDF of final regret (paper Figure 5) and a "
        "summary table, grouped by benchmark and dataset.",
    )
    rp.add_argument("dirs", nargs="+", metavar="DIR", help="experiment directories")
    rp.add_argument(
        "--format",
        choices=["html", "markdown"],
        default="html",
        help="html: one self-contained file (default); markdown: report.md linking the PNGs",
    )
    rp.set_defaults(func=cmd_report)
