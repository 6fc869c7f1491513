"""arch2vec: unsupervised architecture representations and neural architecture search.

The public API, imported lazily (``import arch2vec`` does not import torch)::

    import arch2vec as a2v
    space = a2v.spaces.get("nb201")
    emb = a2v.Arch2Vec(space, epochs=10, seed=0).fit().embed()
    result = a2v.search.run("arch2vec-bo", a2v.benchmarks.load("nb201"), embeddings=emb,
                            runs=10, budget_queries=100)

Stages, each a subpackage, data flowing one way: ``spaces`` -> ``models`` -> ``benchmarks`` ->
``evaluators`` -> ``search`` -> ``analysis`` (-> ``cli``).
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("arch2vec")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

_SUBPACKAGES = ("spaces", "models", "benchmarks", "evaluators", "search", "analysis", "registry")
_OBJECTS = {
    "Arch2Vec": "arch2vec.models.api:Arch2Vec",
    "GAE": "arch2vec.models.api:GAE",
    "VGAE": "arch2vec.models.api:VGAE",
    "Embeddings": "arch2vec.models.embeddings:Embeddings",
    "load_plugins": "arch2vec.registry:load_plugins",
}


if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from arch2vec import analysis, benchmarks, evaluators, models, registry, search, spaces  # noqa: F401
    from arch2vec.models.api import GAE, VGAE, Arch2Vec  # noqa: F401
    from arch2vec.models.embeddings import Embeddings  # noqa: F401
    from arch2vec.registry import load_plugins  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return import_module(f"arch2vec.{name}")
    from arch2vec.registry import lazy_attributes

    return lazy_attributes("arch2vec", _OBJECTS)(name)


__all__ = ["__version__", *_SUBPACKAGES, *_OBJECTS]


def __dir__() -> list[str]:
    """The public names, lazy ones included (``dir(arch2vec)``, completion in a REPL)."""
    return sorted(set(globals()) | set(__all__))
