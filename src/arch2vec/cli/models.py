"""``arch2vec pretrain``, ``evaluate`` and ``embed``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from arch2vec.cli.common import log, number, parent, positive, print_json, refuse_existing


def pretrain_config(args: argparse.Namespace, **fixed: Any) -> Any:
    """A :class:`~arch2vec.models.train.PretrainConfig` of the training options given."""
    from arch2vec.models.train import PretrainConfig

    options = {
        "epochs": getattr(args, "epochs", None),
        "batch_size": getattr(args, "batch_size", None),
        "lr": getattr(args, "lr", None),
        "beta": getattr(args, "beta", None),
        "dropout": getattr(args, "dropout", None),
        "decoder": getattr(args, "decoder", None),
        "schedule": getattr(args, "schedule", None),
        "threads": getattr(args, "threads", None),
        "samples": getattr(args, "samples", None),
        "pool_seed": getattr(args, "pool_seed", None),
        "data_dir": getattr(args, "data_dir", None),
        **fixed,
    }
    return PretrainConfig(**{k: v for k, v in options.items() if v is not None})


def cmd_pretrain(args: argparse.Namespace) -> int:
    from arch2vec.models.run import pretrain

    config = pretrain_config(args, space=args.space, model=args.model, seed=args.seed)
    out = args.out or f"runs/{config.space}-{config.model}-seed{config.seed}"
    final = {
        "run_dir": str(out),
        **pretrain(config, out, resume=args.resume, progress=not args.json),
    }
    if args.json:
        print_json(final, sort_keys=True)
    else:
        print(
            f"{config.model} on {config.space}: {final.get('epoch', 0)} epochs, held-out "
            f"reconstruction {100 * final.get('heldout_reconstruction_accuracy', 0):.2f}% "
            f"-> {out}"
        )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from arch2vec import io
    from arch2vec.models.run import evaluate_run

    result = evaluate_run(args.run_dir, samples=args.samples, seed=args.seed, prior=args.prior)
    name = "evaluation.json" if args.prior == "diagonal" else f"evaluation-{args.prior}.json"
    io.atomic_write_json(Path(args.run_dir) / name, result)
    if args.json:
        print_json(result, sort_keys=True)
        return 0
    rows = (
        ("reconstruction_accuracy", "reconstruction_accuracy", "compare with the paper"),
        ("validity (paper's def.)", "validity_paper", "compare with the paper"),
        ("uniqueness (paper's def.)", "uniqueness_paper", "compare with the paper"),
        ("validity (ours)", "validity_ours", "strict: valid cells of the space"),
        ("uniqueness (ours)", "uniqueness_ours", "distinct hashes of valid cells (NB-101: pruned)"),
    )
    for label, key, note in rows:
        print(f"{label:<26} {100 * result[key]:6.2f} %   {note}")
    print(
        f"{'op / edge accuracy':<26} {100 * result['op_accuracy']:6.2f} / "
        f"{100 * result['edge_accuracy']:.2f} %"
    )
    print(
        "(paper's def.: the authors' validity checks (NB-201: the ops only) and distinct "
        "decoded graphs, unpruned; see arch2vec.models.metrics)"
    )
    print(
        f"({result['samples']} prior samples, {result['heldout_cells']} held-out cells, "
        f"{result['seconds']} s)"
    )
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    from arch2vec.models.run import save_embeddings

    refuse_existing(args.out, args.overwrite)
    out, emb = save_embeddings(args.run_dir, args.out, overwrite=args.overwrite)
    log(f"wrote {emb.shape[0]:,} x {emb.shape[1]} embeddings to {out}")
    return 0


def training_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--epochs",
        type=positive,
        help="(default: 4 nb101, 12 nb201, 4 darts; the same for gae/vgae)",
    )
    p.add_argument(
        "--threads",
        type=positive,
        help="torch threads, at most the cores (default: 1, which holds its speed when other "
        "jobs share the CPU; 2 trains NB-201 about 1.2x faster on a quiet machine, 2.5x slower "
        "beside two busy processes; the result depends on the count, so it is kept with the run)",
    )


def add(commands: Any) -> None:
    from arch2vec.models import DECODERS, MODELS

    pre = commands.add_parser(
        "pretrain",
        parents=[
            parent(
                "seed", "resume", "data_dir", "json", seed_help="split, initialisation, shuffling"
            )
        ],
        help="pre-train an autoencoder on a space (no accuracies needed)",
        description="Train arch2vec (variational GIN autoencoder) or the GAE / VGAE baselines on "
        "90% of a space's cells (split by --seed), checkpointing after every epoch.",
    )
    pre.add_argument(
        "--space",
        required=True,
        help="the search space: a registered name (nb101, nb201, darts, a plugin's) or a spec "
        "file (.toml or .json)",
    )
    pre.add_argument("--model", default="arch2vec", choices=MODELS, help="(default: arch2vec)")
    training_options(pre)
    pre.add_argument(
        "--batch-size", type=positive, help="cells per step (default: 256 nb101/darts, 128 nb201)"
    )
    pre.add_argument(
        "--lr",
        type=number(above=0.0),
        help="Adam learning rate (default: 3e-3 nb101/darts, 4e-3 nb201)",
    )
    pre.add_argument(
        "--beta",
        type=number(at_least=0.0),
        help="weight of the KL term (default: 0.02 darts, 0.005 elsewhere)",
    )
    pre.add_argument(
        "--dropout",
        type=number(at_least=0.0, below=1.0),
        help="dropout on z before decoding (default: 0.1 nb101/darts, 0.3 nb201; 0 for gae/vgae)",
    )
    pre.add_argument(
        "--decoder",
        choices=DECODERS,
        help="edge and op decoder: inner, the paper's sigmoid(z_i . z_j); bilinear, "
        "sigmoid(z_i^T M z_j + b_ij) with an op head per node position (default: bilinear on "
        "nb201 and darts, inner elsewhere)",
    )
    pre.add_argument(
        "--schedule",
        choices=("constant", "cosine"),
        help="learning rate: constant, or cosine decay to 0 at the last step (default: cosine "
        "on nb201 and darts, constant elsewhere)",
    )
    pre.add_argument("--samples", type=positive, help="DARTS pool size (default: 600000)")
    pre.add_argument("--pool-seed", type=int, help="DARTS pool seed (default: 0)")
    pre.add_argument(
        "--out", metavar="RUN_DIR", help="run directory (default: runs/SPACE-MODEL-seedS)"
    )
    pre.set_defaults(func=cmd_pretrain)

    ev = commands.add_parser(
        "evaluate",
        parents=[parent("seed", "json", seed_help="seed of the prior samples")],
        help="Table 1 metrics of a pre-trained model",
        description="Reconstruction accuracy on the held-out cells, validity of decoded prior "
        "samples and uniqueness among the valid ones (fractions in --json, percent in text); "
        "also written to RUN_DIR/evaluation.json (--prior full: evaluation-full.json). "
        "Validity and uniqueness come by two "
        "definitions: the paper's (validity_paper, uniqueness_paper: the authors' checks and "
        "distinct decoded graphs; these compare with the paper's Table 1) and ours "
        "(validity_ours, uniqueness_ours, also as validity, uniqueness: valid cells of the "
        "space, distinct official hashes of the valid cells, NB-101's pruned).",
    )
    ev.add_argument("run_dir", metavar="RUN_DIR")
    ev.add_argument("--samples", type=int, default=10_000, help="prior samples (default: 10000)")
    ev.add_argument(
        "--prior",
        choices=["diagonal", "full"],
        default="diagonal",
        help="how prior samples fit the training cells' latents: diagonal, each node position "
        "and dimension apart (the paper's, default), or full, one Gaussian with the full "
        "covariance of a cell's node latents (not the paper's; BENCHMARKS.md, issue 21)",
    )
    ev.set_defaults(func=cmd_evaluate)

    em = commands.add_parser(
        "embed",
        help="embed every cell of the space",
        description="Write the embedding (mean of the node means over real nodes) of every cell "
        "of the run's space, with its pool index, hash and (NB-201) arch string, to an .npz file "
        "(arrays embeddings, index, hash, native).",
    )
    em.add_argument("run_dir", metavar="RUN_DIR")
    em.add_argument("--out", metavar="FILE", help="(default: RUN_DIR/embeddings.npz)")
    em.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    em.set_defaults(func=cmd_embed)
