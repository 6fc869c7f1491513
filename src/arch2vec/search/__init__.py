"""Search: strategies, the one search loop, and experiments of many seeded runs.

- ``search.run(strategy, evaluator_or_benchmark, runs=..., budget_queries=...)``: an experiment
  (:func:`arch2vec.search.experiment.run`), written to ``out_dir`` when given;
- ``search.engine.run(strategy, evaluator, Budget(...))``: one run;
- strategies with ``ask()`` / ``tell()`` for your own loop: :class:`ArchBO`, :class:`ArchRL`,
  :class:`ArchLocalBO`, :class:`RandomSearch`, :class:`RegularizedEvolution`,
  :class:`Reinforce`, :class:`BOHB`, :class:`SupervisedBO`, :class:`SupervisedRL`; by name
  through ``search.STRATEGIES``; ``search.register(name, cls)`` adds one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from arch2vec.registry import Registry, lazy_attributes

STRATEGIES: Registry[Any] = Registry("strategy")
for _name, _target in (
    ("random", "arch2vec.search.random:RandomSearch"),
    ("evolution", "arch2vec.search.evolution:RegularizedEvolution"),
    ("reinforce", "arch2vec.search.reinforce:Reinforce"),
    ("bohb", "arch2vec.search.bohb:BOHB"),
    ("arch2vec-bo", "arch2vec.search.bo:ArchBO"),
    ("arch2vec-rl", "arch2vec.search.rl:ArchRL"),
    ("arch2vec-lbo", "arch2vec.search.local_bo:ArchLocalBO"),
    ("supervised-bo", "arch2vec.search.supervised:SupervisedBO"),
    ("supervised-rl", "arch2vec.search.supervised:SupervisedRL"),
):
    STRATEGIES.register(_name, _target, builtin=True)

register = STRATEGIES.register

_LAZY = {
    "run": "arch2vec.search.experiment:run",
    "SearchResult": "arch2vec.search.experiment:SearchResult",
    "Strategy": "arch2vec.search.base:Strategy",
    "Request": "arch2vec.search.base:Request",
    "Budget": "arch2vec.search.budget:Budget",
    "Trace": "arch2vec.search.engine:Trace",
    "ArchBO": "arch2vec.search.bo:ArchBO",
    "ArchRL": "arch2vec.search.rl:ArchRL",
    "ArchLocalBO": "arch2vec.search.local_bo:ArchLocalBO",
    "RandomSearch": "arch2vec.search.random:RandomSearch",
    "RegularizedEvolution": "arch2vec.search.evolution:RegularizedEvolution",
    "Reinforce": "arch2vec.search.reinforce:Reinforce",
    "BOHB": "arch2vec.search.bohb:BOHB",
    "SupervisedBO": "arch2vec.search.supervised:SupervisedBO",
    "SupervisedRL": "arch2vec.search.supervised:SupervisedRL",
}


if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from arch2vec.search.base import Request, Strategy  # noqa: F401
    from arch2vec.search.bo import ArchBO  # noqa: F401
    from arch2vec.search.bohb import BOHB  # noqa: F401
    from arch2vec.search.budget import Budget  # noqa: F401
    from arch2vec.search.engine import Trace  # noqa: F401
    from arch2vec.search.evolution import RegularizedEvolution  # noqa: F401
    from arch2vec.search.experiment import SearchResult, run  # noqa: F401
    from arch2vec.search.local_bo import ArchLocalBO  # noqa: F401
    from arch2vec.search.random import RandomSearch  # noqa: F401
    from arch2vec.search.reinforce import Reinforce  # noqa: F401
    from arch2vec.search.rl import ArchRL  # noqa: F401
    from arch2vec.search.supervised import SupervisedBO, SupervisedRL  # noqa: F401

__getattr__ = lazy_attributes("arch2vec.search", _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def get(name: str) -> Any:
    """The strategy class registered as ``name``."""
    return STRATEGIES[name]


__all__ = ["STRATEGIES", "get", "register", *_LAZY]
