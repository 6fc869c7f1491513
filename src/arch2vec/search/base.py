"""The strategy interface: propose pool indices (``ask``), learn from their rewards (``tell``).

A :class:`Strategy` is built on a space (an object or a registered name) with explicit keyword
parameters, scikit-learn style::

    bo = ArchBO(space, embeddings=emb, candidates=None, seed=0, top_k=1)
    idx = bo.ask()                  # pool indices to evaluate
    bo.tell(idx, rewards)           # their rewards, percent (NaN: the evaluation failed)

``candidates`` limits proposals to some pool indices (a table's covered cells); ``embeddings``
are the ``(num_cells, d)`` features of strategies that search a latent space. A strategy never
sees test accuracies and owns no budget: the engine (:mod:`arch2vec.search.engine`), or the
user's own loop, evaluates what it asks for. A strategy that wants a cell evaluated at a lower
fidelity (BOHB) returns a :class:`Request` naming the fidelity, and is told with that name.
"""

from __future__ import annotations

import functools
import inspect
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from arch2vec import checks, spaces
from arch2vec.spaces.base import SearchSpace
from arch2vec.spaces.cells import Cells


@dataclass(frozen=True)
class Request:
    """An ``ask`` answer: pool ``indices`` to evaluate at ``fidelity`` (None: the search reward).

    Lower-fidelity evaluations cost budget but are not queries of the search."""

    indices: np.ndarray
    fidelity: str | None = None

    @classmethod
    def of(cls, answer: Any) -> Request:
        if isinstance(answer, Request):
            return cls(np.atleast_1d(np.asarray(answer.indices, dtype=np.int64)), answer.fidelity)
        return cls(np.atleast_1d(np.asarray(answer, dtype=np.int64)))


class SearchProblem:
    """What the strategies of one search share: the space, its cells, the candidate pool indices,
    the features by pool index and a hash -> pool index map (built on first use). Made once per
    (space, candidates, embeddings) by :meth:`of`, so runs in one process share its caches."""

    _CACHE: ClassVar[list[tuple[tuple[int, int, int], tuple, SearchProblem]]] = []
    _CACHE_SIZE = 4

    def __init__(
        self,
        space: SearchSpace,
        candidates: np.ndarray | None = None,
        features: np.ndarray | None = None,
    ) -> None:
        self.space = space
        self.cells: Cells = space.all()
        n = len(self.cells)
        if candidates is None:
            candidates = np.arange(n, dtype=np.int64)
        candidates = np.asarray(candidates)
        if candidates.ndim != 1 or len(candidates) == 0 or candidates.dtype.kind not in "iu":
            raise ValueError("candidates: expected a non-empty 1-D array of pool indices")
        candidates = candidates.astype(np.int64)
        if candidates.min() < 0 or candidates.max() >= n:
            raise ValueError(f"candidates: pool indices must be in [0, {n})")
        if len(np.unique(candidates)) != len(candidates):
            raise ValueError("candidates: pool indices must be distinct")
        self.candidates = candidates
        self.features = None if features is None else _features(features, space)
        self._hash_index: dict[str, int] | None = None

    @classmethod
    def of(
        cls, space: SearchSpace, candidates: Any = None, embeddings: Any = None
    ) -> SearchProblem:
        key = (id(space), id(candidates), id(embeddings))
        for k, refs, problem in cls._CACHE:
            if k == key and refs[0] is space and refs[1] is candidates and refs[2] is embeddings:
                return problem
        problem = cls(space, candidates, embeddings)
        cls._CACHE.append((key, (space, candidates, embeddings), problem))
        del cls._CACHE[: -cls._CACHE_SIZE]
        return problem

    def index_of_cells(self, cells: Cells) -> np.ndarray:
        """Pool index of each cell (matched by hash, so isomorphic cells match); -1 if absent
        or not a candidate."""
        if self._hash_index is None:
            hashes = self.space.hashes()
            self._hash_index = {str(hashes[i]): int(i) for i in self.candidates}
        found = [self._hash_index.get(str(h), -1) for h in self.space.hash(cells)]
        return np.asarray(found, dtype=np.int64)


def _features(embeddings: Any, space: SearchSpace) -> np.ndarray:
    """``(num_cells, d)`` features by pool index from an Embeddings object or an array."""
    check = getattr(embeddings, "check_space", None)
    if check is not None:
        return check(space)
    features = np.asarray(embeddings)
    n = len(space.all())
    if features.ndim != 2 or len(features) != n or not np.issubdtype(features.dtype, np.number):
        raise ValueError(
            f"embeddings: expected ({n}, d) numbers by pool index, got shape {features.shape}"
        )
    if not np.isfinite(features).all():
        raise ValueError("embeddings: not all finite")
    return features


def as_space(space: SearchSpace | str) -> SearchSpace:
    return spaces.get(space) if isinstance(space, str) else space


@dataclass(frozen=True)
class Range:
    """A numeric parameter's kind (``int`` or ``float``) and range ``[lo, hi]`` (``lo_open``:
    ``lo`` itself excluded, as for a learning rate)."""

    kind: type
    lo: float
    hi: float
    lo_open: bool = False

    def check(self, name: str, value: Any) -> int | float:
        if self.kind is int:
            return checks.integer(name, value, int(self.lo), int(self.hi))
        return checks.number(name, value, self.lo, self.hi, lo_open=self.lo_open)


@dataclass(frozen=True)
class Choice:
    """A text parameter that takes one of ``values``."""

    values: tuple[str, ...]

    def check(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in self.values:
            expected = " or ".join(repr(v) for v in self.values)
            raise ValueError(f"{name} must be {expected}, got {value!r}")
        return value


@dataclass(frozen=True)
class Items:
    """A list parameter: its items each a text (``item`` None) or in a :class:`Range`, and, where
    ``length`` is given, exactly that many (``increasing``: each above the one before)."""

    item: Range | None = None
    length: int | None = None
    increasing: bool = False

    def check(self, name: str, value: Any) -> list[Any]:
        what = "names" if self.item is None else "numbers"
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ValueError(f"{name} must be a list of {what}, got {value!r}")
        if self.length is not None and len(value) != self.length:
            raise ValueError(f"{name} must hold {self.length} {what}, got {len(value)}")
        out: list[Any] = []
        for k, v in enumerate(value):
            if self.item is None:
                if not isinstance(v, str):
                    raise ValueError(f"{name}[{k}] must be a name, got {v!r}")
                out.append(v)
            else:
                out.append(self.item.check(f"{name}[{k}]", v))
        if self.increasing and any(a >= b for a, b in zip(out, out[1:], strict=False)):
            raise ValueError(f"{name} must increase, got {list(value)!r}")
        return out


BASE_KEYWORDS = ("embeddings", "candidates", "seed")
"""The keywords every strategy takes from :class:`Strategy` (not parameters of a search)."""


class Strategy(ABC):
    """Propose cells (``ask``), learn from their rewards (``tell``); see the module docstring.

    Every strategy takes ``space`` and the keywords ``embeddings``, ``candidates`` and ``seed`` (an
    int or a ``numpy.random.Generator``) of this base class, and its own explicit keyword
    parameters (a subclass forwards the base's, and a parent strategy's, as ``**common``)."""

    name: ClassVar[str] = "strategy"
    needs_embeddings: ClassVar[bool] = False
    random_start: ClassVar[str | None] = None
    """The parameter that counts the random cells proposed before the strategy uses what it
    has learnt (evolution: ``population``; the BOs: ``init``), if it has one: a search whose
    budget holds no more queries than that is random search, which :func:`~arch2vec.search.
    plan.plan` says."""
    ranges: ClassVar[dict[str, Range | Choice | Items]] = {}
    """Each parameter's declaration, checked by :func:`check_params` and the constructor: a
    number's kind and range (:class:`Range`), a text's values (:class:`Choice`), a list's items
    (:class:`Items`); a parent strategy's hold for a subclass unless it declares its own."""

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        embeddings: Any = None,
        candidates: Any = None,
        seed: int | np.random.Generator = 0,
    ) -> None:
        if self.needs_embeddings and embeddings is None:
            raise ValueError(f"strategy {self.name} needs embeddings of the cells")
        if isinstance(embeddings, (str, os.PathLike)):  # a pre-training run, as search.run takes
            from arch2vec.models.run import load_embeddings

            embeddings = load_embeddings(embeddings)
        self.problem = SearchProblem.of(as_space(space), candidates, embeddings)
        if not isinstance(seed, np.random.Generator):
            seed = np.random.default_rng(checks.seed(seed))
        self.rng = seed

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A strategy's constructor checks its declared parameters (:attr:`ranges`) first, so
        that building one from Python gives the errors :func:`check_params` gives a search; its
        ``tell`` checks what it is told (:meth:`check_told`) before the strategy reads it."""
        super().__init_subclass__(**kwargs)
        init = vars(cls).get("__init__")
        if init is not None and not getattr(init, "_checks_ranges", False):

            @functools.wraps(init)
            def checked(self: Strategy, *args: Any, **kw: Any) -> None:
                declared = type(self).parameter_ranges()
                for key, value in kw.items():
                    if key in declared and value is not None:
                        try:
                            declared[key].check(key, value)
                        except ValueError as e:
                            raise ValueError(f"strategy {type(self).name}: parameter {e}") from None
                init(self, *args, **kw)

            checked._checks_ranges = True  # type: ignore[attr-defined]
            cls.__init__ = checked  # type: ignore[method-assign]
        tell = vars(cls).get("tell")
        if tell is not None and not getattr(tell, "_checks_told", False):

            @functools.wraps(tell)
            def told(self: Strategy, indices: Any, rewards: Any, *args: Any, **kw: Any) -> None:
                indices, rewards = self.check_told(indices, rewards)
                tell(self, indices, rewards, *args, **kw)

            told._checks_told = True  # type: ignore[attr-defined]
            cls.tell = told  # type: ignore[method-assign]

    def check_told(self, indices: Any, rewards: Any) -> tuple[np.ndarray, np.ndarray]:
        """``indices`` as pool indices and ``rewards`` as numbers, one per index; else a
        one-line ``ValueError``."""
        where = f"strategy {self.name}: tell"
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError(f"{where}: indices must be a 1-D array of pool indices, got {idx!r}")
        try:
            rew = np.asarray(rewards, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: rewards must be numbers, got {rewards!r}") from None
        if rew.ndim != 1 or len(rew) != len(idx):
            raise ValueError(
                f"{where}: {rew.size} reward(s) for {len(idx)} index(es); expected one per index"
            )
        n = len(self.problem.cells)
        outside = idx[(idx < 0) | (idx >= n)]
        if len(outside):
            raise ValueError(f"{where}: index {int(outside[0])} is outside the pool [0, {n})")
        return idx.astype(np.int64, copy=False), rew

    @property
    def space(self) -> SearchSpace:
        return self.problem.space

    @abstractmethod
    def ask(self) -> np.ndarray | Request:
        """Pool indices to evaluate next (one or a batch), or a :class:`Request`."""

    @abstractmethod
    def tell(self, indices: np.ndarray, rewards: np.ndarray, fidelity: str | None = None) -> None:
        """Rewards (percent; NaN where an evaluation failed) of the cells just evaluated."""

    @classmethod
    def parameters(cls) -> dict[str, Any]:
        """The strategy's own keyword parameters (its class's and its parent strategies') and
        their defaults; a subclass's default wins. The base's keywords (:data:`BASE_KEYWORDS`)
        are not parameters, even where a subclass spells them out."""
        out: dict[str, Any] = {}
        for klass in cls.__mro__:
            if (
                klass is Strategy
                or not issubclass(klass, Strategy)
                or "__init__" not in vars(klass)
            ):
                continue
            for name, p in inspect.signature(klass.__init__).parameters.items():
                if p.kind is p.KEYWORD_ONLY and name not in BASE_KEYWORDS:
                    out.setdefault(name, p.default)
        return out

    @classmethod
    def parameter_ranges(cls) -> dict[str, Range | Choice | Items]:
        """The declarations of the strategy's parameters (its own and its parents')."""
        out: dict[str, Range | Choice | Items] = {}
        for klass in reversed(cls.__mro__):
            out.update(vars(klass).get("ranges", {}))
        return out


def check_params(cls: type[Strategy], params: dict[str, Any]) -> dict[str, Any]:
    """``params`` if ``cls`` takes every one of them, each of the kind its default is (a number,
    an integer, a boolean, a text, a list); else a one-line error naming the parameter."""
    known = cls.parameters()
    for key, value in params.items():
        if key not in known:
            takes = ", ".join(known) or "no parameters"
            raise ValueError(f"strategy {cls.name} has no parameter {key!r} (it takes: {takes})")
        default = known[key]
        kinds = {
            bool: ("true or false", lambda v: isinstance(v, bool)),
            int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
            float: ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
            str: ("a text", lambda v: isinstance(v, str)),
            tuple: ("a list", lambda v: isinstance(v, (list, tuple))),
        }
        kind = kinds.get(type(default))
        if kind is not None and value is not None and not kind[1](value):
            raise ValueError(
                f"strategy {cls.name}: parameter {key} must be {kind[0]}, got {value!r}"
            )
        if isinstance(value, float) and value != value:
            raise ValueError(f"strategy {cls.name}: parameter {key} must be a number, got nan")
        declared = cls.parameter_ranges().get(key)
        if declared is not None and value is not None:
            try:
                declared.check(key, value)
            except ValueError as e:
                raise ValueError(f"strategy {cls.name}: parameter {e}") from None
    return dict(params)
