"""Regenerate the paper's tables from our own runs and set them beside the published numbers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from arch2vec import io
from arch2vec.analysis.paper import TABLE1
from arch2vec.models.metrics import evaluate
from arch2vec.models.train import CHECKPOINT, PretrainConfig, load_checkpoint, pretrain

TABLE1_METRICS = ("reconstruction_accuracy", "validity", "uniqueness")
NAMES = {"arch2vec": "arch2vec", "gae": "GAE", "vgae": "VGAE"}
SPACE_NAMES = {"nb101": "NAS-Bench-101", "nb201": "NAS-Bench-201", "darts": "DARTS"}


def table1(
    out_dir: str | Path,
    spaces: Sequence[str] = ("nb101", "nb201", "darts"),
    models: Sequence[str] = ("gae", "vgae", "arch2vec"),
    samples: int = 10_000,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Pre-train and evaluate every (space, model), resuming finished or killed runs in
    ``out_dir/{space}-{model}``; write ``table1.json`` and ``table1.md`` into ``out_dir``."""
    out_dir = Path(out_dir)
    rows = []
    for space in spaces:
        for model in models:
            config = PretrainConfig(space=space, model=model, seed=seed, **(overrides or {}))
            run_dir = out_dir / f"{space}-{model}"
            done = (run_dir / CHECKPOINT).is_file() and load_checkpoint(run_dir)[
                "epoch"
            ] >= config.epochs
            if not done:
                log(f"pre-training {model} on {space} ({config.epochs} epochs) -> {run_dir}")
                pretrain(config, run_dir, resume=True, progress=progress)
            result = evaluate(run_dir, samples=samples, seed=seed)
            io.atomic_write_json(run_dir / "evaluation.json", result)
            rows.append(result)
            io.atomic_write_json(out_dir / "table1.json", {"rows": rows})
    io.atomic_write_text(out_dir / "table1.md", table1_markdown(rows))
    return rows


def table1_markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| method | space | reconstruction % (paper) | validity % (paper) | uniqueness % (paper) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        paper = TABLE1.get((r["model"], r["space"]), {})
        cells = []
        for metric in TABLE1_METRICS:
            ours = f"{100 * r[metric]:.2f}"
            theirs = f"{paper[metric]:.2f}" if metric in paper else "n/a"
            cells.append(f"{ours} ({theirs})")
        lines.append(
            f"| {NAMES[r['model']]} | {SPACE_NAMES[r['space']]} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"
