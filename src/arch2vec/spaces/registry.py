"""The registry of search spaces (:mod:`arch2vec.registry`): built-ins, plugins, your own."""

from __future__ import annotations

from arch2vec.registry import Registry

SPACES: Registry = Registry("space")
SPACES.register("nb101", "arch2vec.spaces.nb101:NB101Space", builtin=True)
SPACES.register("nb201", "arch2vec.spaces.nb201:NB201Space", builtin=True)
SPACES.register("darts", "arch2vec.spaces.darts:DartsSpace", builtin=True)
