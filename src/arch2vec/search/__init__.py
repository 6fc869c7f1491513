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

from typing import Any

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


__getattr__ = lazy_attributes("arch2vec.search", _LAZY)


def get(name: str) -> Any:
    """The strategy class registered as ``name``."""
    return STRATEGIES[name]


__all__ = ["STRATEGIES", "get", "register", *_LAZY]
