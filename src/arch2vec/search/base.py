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


class Strategy(ABC):
    """Propose cells (``ask``), learn from their rewards (``tell``); see the module docstring.

    Every strategy takes ``space`` and the keywords ``embeddings``, ``candidates`` and ``seed`` (an
    int or a ``numpy.random.Generator``) of this base class, and its own explicit keyword
    parameters (a subclass forwards the base's, and a parent strategy's, as ``**common``)."""

    name: ClassVar[str] = "strategy"
    needs_embeddings: ClassVar[bool] = False
    ranges: ClassVar[dict[str, Range]] = {}
    """The kind and range of each numeric parameter, checked by :func:`check_params`; a parent
    strategy's ranges hold for a subclass unless it declares its own."""

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
        self.problem = SearchProblem.of(as_space(space), candidates, embeddings)
        if not isinstance(seed, np.random.Generator):
            seed = np.random.default_rng(checks.seed(seed))
        self.rng = seed

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A strategy's constructor checks its declared ranges (:attr:`ranges`) first, so that
        building one from Python gives the errors :func:`check_params` gives a search."""
        super().__init_subclass__(**kwargs)
        init = vars(cls).get("__init__")
        if init is None or getattr(init, "_checks_ranges", False):
            return

        @functools.wraps(init)
        def checked(self: Strategy, *args: Any, **kw: Any) -> None:
            ranges = type(self).parameter_ranges()
            for key, value in kw.items():
                if key in ranges and value is not None:
                    try:
                        ranges[key].check(key, value)
                    except ValueError as e:
                        raise ValueError(f"strategy {type(self).name}: parameter {e}") from None
            init(self, *args, **kw)

        checked._checks_ranges = True  # type: ignore[attr-defined]
        cls.__init__ = checked  # type: ignore[method-assign]

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
        their defaults; a subclass's default wins."""
        out: dict[str, Any] = {}
        for klass in cls.__mro__:
            if (
                klass is Strategy
                or not issubclass(klass, Strategy)
                or "__init__" not in vars(klass)
            ):
                continue
            for name, p in inspect.signature(klass.__init__).parameters.items():
                if p.kind is p.KEYWORD_ONLY:
                    out.setdefault(name, p.default)
        return out

    @classmethod
    def parameter_ranges(cls) -> dict[str, Range]:
        """The declared ranges of the strategy's numeric parameters (its own and its parents')."""
        out: dict[str, Range] = {}
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
