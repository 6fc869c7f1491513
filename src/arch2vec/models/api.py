"""The pre-training estimators: :class:`Arch2Vec`, :class:`GAE` and :class:`VGAE`.

scikit-learn style: explicit keyword parameters (``None``: the space's measured default),
``fit`` returns the estimator, learnt state ends in ``_``::

    model = Arch2Vec("nb201", epochs=10, seed=0).fit()   # or .fit(cells), or .fit(run_dir=...)
    emb = model.embed()                                  # Embeddings of the whole pool
    model.save("runs/nb201"); model = Arch2Vec.load("runs/nb201")

``fit(run_dir=...)`` trains in a run directory (atomic checkpoints after every epoch, resumable
with ``resume=True``), exactly as ``arch2vec pretrain`` does; the same seed gives the same model
either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from arch2vec import checks, spaces, threads
from arch2vec.models import run as runs
from arch2vec.models.embeddings import Embeddings
from arch2vec.models.metrics import check_prior, table1_metrics
from arch2vec.models.train import PretrainConfig, build_model, embed_cells, split, train_epochs
from arch2vec.models.vgae import GraphAutoencoder, cell_tensors, decode, encode
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import Cells


class GraphAutoencoderEstimator:
    """A graph autoencoder over the cells of one space (see the module docstring)."""

    model_name: ClassVar[str] = "arch2vec"

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        beta: float | None = None,
        dropout: float | None = None,
        latent: int = 16,
        hidden: list[int] | None = None,
        positional: bool = True,
        decoder: str | None = None,
        self_weight: bool = True,
        holdout: float = 0.1,
        seed: int = 0,
        threads: int | None = None,
    ) -> None:
        self.space = spaces.get(space) if isinstance(space, str) else space
        options = self.space.options()
        self.config = PretrainConfig(
            space=self.space.name,
            model=self.model_name,
            epochs=epochs or 0,
            batch_size=batch_size or 0,
            lr=-1.0 if lr is None else lr,
            beta=-1.0 if beta is None else beta,
            dropout=-1.0 if dropout is None else dropout,
            positional=positional,
            decoder=decoder or "",
            self_weight=self_weight,
            hidden=list(hidden or []),
            latent=latent,
            holdout=holdout,
            seed=seed,
            threads=threads or 0,
            samples=options.get("samples", 600_000),
            pool_seed=options.get("seed", 0),
            data_dir=None if self.space.data_dir is None else str(self.space.data_dir),
            spec=options.get("spec"),
        )
        self.model_: GraphAutoencoder | None = None
        self.history_: list[dict[str, Any]] = []

    @classmethod
    def _from_config(cls, config: PretrainConfig, space: SearchSpace) -> GraphAutoencoderEstimator:
        est = object.__new__(_ESTIMATORS[config.model])
        est.space, est.config = space, config
        est.model_, est.history_ = None, []
        return est

    # ------------------------------------------------------------------------------ training

    def fit(
        self,
        cells: Cells | None = None,
        *,
        run_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = False,
    ) -> GraphAutoencoderEstimator:
        """Train on ``cells`` (default: the whole pool), ``holdout`` of them held out for the
        reconstruction measured after every epoch. With ``run_dir``: train there, checkpointing
        every epoch (``resume=True`` continues a killed run); ``cells`` must then be None."""
        if run_dir is not None:
            if cells is not None:
                raise ValueError("fit: a run directory trains on the whole pool; give no cells")
            runs.pretrain(self.config, run_dir, resume=resume, progress=progress, space=self.space)
            self._load_state(run_dir)
            return self
        cells = self.space.all() if cells is None else cells
        if len(cells) < 2:
            raise ValueError(f"fit: needs at least 2 cells, got {len(cells)}")
        train_idx, hold_idx = split(len(cells), self.config.holdout, self.config.seed)
        model = build_model(self.config, self.space)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.config.lr)
        self.history_ = train_epochs(
            self.config,
            model,
            optimizer,
            cells[train_idx],
            cells[hold_idx],
            len(self.space.ops),
            progress=progress,
        )
        self.model_ = model
        self._train_cells = cells[train_idx]
        self._held_cells = cells[hold_idx]
        return self

    def _load_state(self, run_dir: str | Path) -> None:
        state = runs.load_checkpoint(run_dir)
        model = build_model(self.config, self.space)
        runs.load_weights(model, state, run_dir)
        model.eval()
        self.model_ = model
        self.history_ = list(state["history"])
        cells = self.space.all()
        train_idx, hold_idx = split(len(cells), self.config.holdout, self.config.seed)
        self._train_cells, self._held_cells = cells[train_idx], cells[hold_idx]

    def _fitted(self) -> GraphAutoencoder:
        if self.model_ is None:
            raise ValueError(f"this {type(self).__name__} is not fitted yet: call fit() first")
        return self.model_

    # ------------------------------------------------------------------------------ use

    def embed(self, cells: Cells | None = None) -> Embeddings | np.ndarray:
        """The embeddings of the whole pool (:class:`Embeddings`, with pool index, hash and
        native names), or ``(B, d)`` float32 embeddings of ``cells``."""
        model = self._fitted()
        with threads.limited(self.config.threads):
            if cells is not None:
                return embed_cells(model, cells, len(self.space.ops))
            vectors = embed_cells(model, self.space.all(), len(self.space.ops))
        return Embeddings.of_space(self.space, vectors, model=self.model_name)

    def encode(self, cells: Cells) -> np.ndarray:
        """Per-node latent means ``(B, N, d)`` of ``cells``."""
        mu, _ = encode(self._fitted(), cell_tensors(cells, len(self.space.ops)))
        return mu.numpy()

    def decode(self, z: np.ndarray) -> Cells:
        """Cells decoded from per-node latents ``(B, N, d)``."""
        adj, ops = decode(self._fitted(), torch.as_tensor(np.asarray(z, dtype=np.float32)))
        return Cells(adj, ops, self.space.name)

    def score(
        self, samples: int = 10_000, seed: int = 0, prior: str = "diagonal"
    ) -> dict[str, Any]:
        """Table 1's metrics: held-out reconstruction, validity and uniqueness of ``samples``
        decoded prior samples (fractions), the latter two by the paper's definitions
        (``validity_paper``, ``uniqueness_paper``) and ours (``validity_ours``,
        ``uniqueness_ours``; see :mod:`arch2vec.models.metrics`). ``prior``: ``diagonal`` (the
        paper's samples) or ``full`` (:func:`~arch2vec.models.metrics.prior_samples`)."""
        samples = checks.integer("samples", samples, 1, checks.MAX_PRIOR_SAMPLES)
        seed = checks.seed(seed)
        prior = check_prior(prior)
        model = self._fitted()
        with threads.limited(self.config.threads):
            return table1_metrics(
                model, self.space, self._train_cells, self._held_cells, samples, seed, prior
            )

    # ------------------------------------------------------------------------------ files

    def save(self, run_dir: str | Path) -> Path:
        """Write a run directory (``config.json``, ``checkpoint.pt``) that :meth:`load` and the
        command line (``arch2vec embed``, ``--embeddings``) read."""
        model = self._fitted()
        run_dir = Path(run_dir)
        if (run_dir / runs.CHECKPOINT).exists():
            raise ValueError(f"{run_dir}: already holds a run")
        runs.write_config(run_dir, self.config, self.space)
        epoch = self.history_[-1]["epoch"] if self.history_ else self.config.epochs
        runs.save_checkpoint(
            run_dir / runs.CHECKPOINT,
            {"epoch": epoch, "model": model.state_dict(), "history": self.history_},
        )
        return run_dir

    @classmethod
    def load(cls, run_dir: str | Path) -> GraphAutoencoderEstimator:
        """The fitted estimator of a run directory (written by :meth:`save`, ``fit(run_dir=)``
        or ``arch2vec pretrain``)."""
        config = runs.read_config(run_dir)
        space = config.load_space()
        runs.check_run_space(run_dir, space)
        est = cls._from_config(config, space)
        est._load_state(run_dir)
        return est


class Arch2Vec(GraphAutoencoderEstimator):
    """arch2vec: the variational graph isomorphism autoencoder (GIN encoder)."""

    model_name = "arch2vec"


class GAE(GraphAutoencoderEstimator):
    """Graph autoencoder baseline (2-layer GCN encoder, no sampling)."""

    model_name = "gae"


class VGAE(GraphAutoencoderEstimator):
    """Variational graph autoencoder baseline (2-layer GCN encoder)."""

    model_name = "vgae"


_ESTIMATORS: dict[str, type[GraphAutoencoderEstimator]] = {
    "arch2vec": Arch2Vec,
    "gae": GAE,
    "vgae": VGAE,
}
