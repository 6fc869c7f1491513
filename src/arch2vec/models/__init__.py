"""Pre-training: arch2vec (variational GIN autoencoder), the GAE / VGAE baselines, embeddings.

``Arch2Vec(space, epochs=..., seed=...).fit()`` trains in memory (or ``fit(run_dir=...)`` in a
resumable run directory), ``.embed()`` gives :class:`Embeddings` of the whole pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arch2vec.registry import lazy_attributes

MODELS = ("arch2vec", "gae", "vgae")
DECODERS = ("inner", "bilinear")
"""The graph decoders (:mod:`arch2vec.models.vgae`): the paper's inner product, and ours."""

_LAZY = {
    "Arch2Vec": "arch2vec.models.api:Arch2Vec",
    "GAE": "arch2vec.models.api:GAE",
    "VGAE": "arch2vec.models.api:VGAE",
    "Embeddings": "arch2vec.models.embeddings:Embeddings",
    "PretrainConfig": "arch2vec.models.train:PretrainConfig",
    "pretrain": "arch2vec.models.run:pretrain",
    "evaluate_run": "arch2vec.models.run:evaluate_run",
    "load_embeddings": "arch2vec.models.run:load_embeddings",
}


if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from arch2vec.models.api import GAE, VGAE, Arch2Vec  # noqa: F401
    from arch2vec.models.embeddings import Embeddings  # noqa: F401
    from arch2vec.models.run import evaluate_run, load_embeddings, pretrain  # noqa: F401
    from arch2vec.models.train import PretrainConfig  # noqa: F401

__getattr__ = lazy_attributes("arch2vec.models", _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = ["DECODERS", "MODELS", *_LAZY]
