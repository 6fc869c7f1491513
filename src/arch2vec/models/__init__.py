"""Pre-training: arch2vec (variational GIN autoencoder), the GAE / VGAE baselines, embeddings.

``Arch2Vec(space, epochs=..., seed=...).fit()`` trains in memory (or ``fit(run_dir=...)`` in a
resumable run directory), ``.embed()`` gives :class:`Embeddings` of the whole pool.
"""

from __future__ import annotations

import importlib
from typing import Any

MODELS = ("arch2vec", "gae", "vgae")

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


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'arch2vec.models' has no attribute {name!r}")
    module, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


__all__ = ["MODELS", *_LAZY]
