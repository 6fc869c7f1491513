"""What the discrete strategies share: the cell encoding, one-edit mutation, random unvisited
cells and the bookkeeping of a proposal.

Random search, regularized evolution, REINFORCE, BOHB and arch2vec-LBO's local turns import these
from here (and the base, :mod:`arch2vec.search.base`), never from each other.

**Encoding** (:class:`CellEncoding`). A cell is a vector of categorical *positions*: the op of
every node whose op varies across the space (NB-201: the six edge ops; NB-101: the five inner
nodes 1..5), then every upper-triangle adjacency bit that varies (NB-201: none, its DAG is fixed;
NB-101: all 21). Spaces whose cells are padded (NB-101, stored pruned with the output at node
``n - 1``) are encoded in their *full* 7-node form: the output moves to the last node and the
missing nodes become unconnected inner nodes with random ops (drawn from the strategy's ``rng``).
A decoded full-form cell may hold dangling nodes or be invalid; it is looked up by the space's
hash (which prunes), so it maps onto the stored cell it equals, or on -1 if it is not a
candidate.

**Mutation** (:func:`mutate`): one edit. Where a space has both kinds of position, an op or an
edge bit is chosen with probability 1/2 each, then one position of that kind uniformly, and it
gets a different value uniformly (a bit flips). In NB-201 that is edit distance 1; in NB-101 the
mutant, after pruning, is a candidate cell whenever it is proposed.

**Random unvisited cells** (:func:`sample_unvisited`): candidate pool indices drawn uniformly
(uniform over the benchmark's cells, i.e. over isomorphism classes in NAS-Bench-101) that are not
in ``visited``.
"""

from __future__ import annotations

import weakref
from typing import Protocol

import numpy as np

from arch2vec.search.base import SearchProblem
from arch2vec.spaces.cells import PAD, Cells

_REJECTION_DRAWS = 32
"""Rejection draws per wanted cell before falling back to an exact draw from the unvisited set."""


def sample_unvisited(
    problem: SearchProblem, rng: np.random.Generator, visited: set[int], n: int = 1
) -> np.ndarray:
    """Up to ``n`` distinct candidate pool indices not in ``visited``, uniformly at random.

    Returns fewer (possibly none) only when fewer unvisited candidates are left. Draws by
    rejection while most candidates are unvisited, else exactly from the unvisited set.
    """
    candidates = np.asarray(problem.candidates, dtype=np.int64)
    out: list[int] = []
    if len(visited) < len(candidates) // 2:
        chosen: set[int] = set()
        for draw in rng.integers(len(candidates), size=_REJECTION_DRAWS * n).tolist():
            index = int(candidates[draw])
            if index not in visited and index not in chosen:
                chosen.add(index)
                out.append(index)
                if len(out) == n:
                    return np.asarray(out, dtype=np.int64)
    taken = visited.union(out)
    left = candidates[~np.isin(candidates, np.fromiter(taken, dtype=np.int64, count=len(taken)))]
    more = rng.choice(left, size=min(n - len(out), len(left)), replace=False)
    return np.asarray(out + [int(i) for i in more], dtype=np.int64)


LOOKUP_CHUNK = 16
"""Mutants or samples looked up per batch (one hash call each)."""
MEMO_SIZE = 1_000_000
"""Code vectors whose pool index :meth:`CellEncoding.lookup` remembers."""


class CellEncoding:
    """The categorical positions of a search space's cells (see the module docstring)."""

    def __init__(self, problem: SearchProblem) -> None:
        cells = problem.cells
        self.problem = problem
        self.space_name = problem.space.name
        size = cells.num_nodes
        self.num_nodes = size
        real = cells.ops != PAD
        n = real.sum(axis=1)
        if not (real == (np.arange(size)[None, :] < n[:, None])).all() or (n < 2).any():
            raise ValueError(f"{self.space_name}: padding must trail at least two real nodes")
        self.padded = bool((n < size).any())
        rows = np.arange(len(cells))
        src, dst = np.triu_indices(size, k=1)
        if self.padded:
            # full form: input at 0, output at size - 1, every other node inner, every bit free
            inputs, outputs = np.unique(cells.ops[:, 0]), np.unique(cells.ops[rows, n - 1])
            if len(inputs) != 1 or len(outputs) != 1:
                raise ValueError(f"{self.space_name}: cells have no fixed input and output op")
            self.fixed_ops = np.full(size, -1, dtype=np.int64)
            self.fixed_ops[0], self.fixed_ops[-1] = inputs[0], outputs[0]
            inner = (np.arange(size)[None, :] > 0) & (np.arange(size)[None, :] < (n - 1)[:, None])
            self.choices = np.unique(cells.ops[inner]).astype(np.int64)
            free_bits = np.ones(len(src), dtype=bool)
            self.fixed_adjacency = np.zeros((size, size), dtype=np.uint8)
        else:
            varies = (cells.ops != cells.ops[:1]).any(axis=0)
            self.fixed_ops = np.where(varies, -1, cells.ops[0]).astype(np.int64)
            self.choices = np.unique(cells.ops[:, varies]).astype(np.int64)
            bits = cells.adjacency[:, src, dst]
            free_bits = (bits != bits[:1]).any(axis=0)
            self.fixed_adjacency = cells.adjacency[0].copy()
            self.fixed_adjacency[src[free_bits], dst[free_bits]] = 0
        self.op_nodes = np.flatnonzero(self.fixed_ops < 0)
        self.bit_src, self.bit_dst = src[free_bits], dst[free_bits]
        self.num_op_positions = len(self.op_nodes)
        self.num_positions = self.num_op_positions + len(self.bit_src)
        if self.num_positions == 0:
            raise ValueError(f"{self.space_name}: every cell is the same; nothing to search")
        self._memo: dict[bytes, int] = {}
        self.num_choices = np.array(
            [len(self.choices)] * self.num_op_positions + [2] * len(self.bit_src), dtype=np.int64
        )

    @classmethod
    def of(cls, problem: SearchProblem) -> CellEncoding:
        """The encoding of ``problem``, built once per problem."""
        found = _ENCODINGS.get(problem)
        if found is None:
            found = _ENCODINGS[problem] = cls(problem)
        return found

    def position_names(self) -> list[str]:
        """``op<node>`` for op positions, ``e<src>_<dst>`` for adjacency bits."""
        ops = [f"op{int(i)}" for i in self.op_nodes]
        return ops + [
            f"e{int(s)}_{int(d)}" for s, d in zip(self.bit_src, self.bit_dst, strict=True)
        ]

    def encode(self, cells: Cells, rng: np.random.Generator) -> np.ndarray:
        """``(B, P)`` int64 codes of cells (``rng`` draws the ops of padding made inner nodes)."""
        adjacency, ops = cells.adjacency.copy(), cells.ops.astype(np.int64)
        if self.padded:
            size = self.num_nodes
            for b in range(len(cells)):
                n = int((ops[b] != PAD).sum())
                if n == size:
                    continue
                adjacency[b, :, size - 1] = adjacency[b, :, n - 1]
                adjacency[b, :, n - 1] = 0
                ops[b, size - 1] = ops[b, n - 1]
                ops[b, n - 1 : size - 1] = rng.choice(self.choices, size=size - n)
        codes_ops = np.searchsorted(self.choices, ops[:, self.op_nodes])
        codes_bits = adjacency[:, self.bit_src, self.bit_dst].astype(np.int64)
        return np.concatenate([codes_ops, codes_bits], axis=1)

    def decode(self, codes: np.ndarray) -> Cells:
        """Cells (full form) of ``(B, P)`` codes."""
        codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
        batch = len(codes)
        ops = np.broadcast_to(self.fixed_ops, (batch, self.num_nodes)).copy()
        ops[:, self.op_nodes] = self.choices[codes[:, : self.num_op_positions]]
        adjacency = np.broadcast_to(self.fixed_adjacency, (batch, *self.fixed_adjacency.shape))
        adjacency = adjacency.copy()
        adjacency[:, self.bit_src, self.bit_dst] = codes[:, self.num_op_positions :]
        return Cells(adjacency, ops, self.space_name)

    def lookup(self, codes: np.ndarray) -> np.ndarray:
        """Candidate pool index of each code vector; -1 where it is not a candidate.

        Answers are remembered (up to ``MEMO_SIZE`` code vectors), so repeated proposals cost
        no hashing."""
        codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
        keys = [row.tobytes() for row in codes]
        out = np.array([self._memo.get(k, -2) for k in keys], dtype=np.int64)
        todo = np.flatnonzero(out == -2)
        if len(todo):
            out[todo] = self.problem.index_of_cells(self.decode(codes[todo]))
            if len(self._memo) < MEMO_SIZE:
                self._memo.update((keys[t], int(out[t])) for t in todo.tolist())
        return out

    def codes_of(self, indices, rng: np.random.Generator) -> np.ndarray:
        """Codes of the pool cells ``indices``."""
        return self.encode(self.problem.cells[np.asarray(indices, dtype=np.int64)], rng)


_ENCODINGS: weakref.WeakKeyDictionary[SearchProblem, CellEncoding] = weakref.WeakKeyDictionary()


def mutate(
    encoding: CellEncoding, codes: np.ndarray, rng: np.random.Generator, count: int = 1
) -> np.ndarray:
    """``(count, P)`` mutants of one code vector, each one edit away from it."""
    codes = np.asarray(codes, dtype=np.int64)
    n_ops = encoding.num_op_positions
    n_bits = encoding.num_positions - n_ops
    if n_ops and n_bits:
        pick_op = rng.random(count) < 0.5
        pos = np.where(
            pick_op, rng.integers(n_ops, size=count), n_ops + rng.integers(n_bits, size=count)
        )
    else:
        pos = rng.integers(encoding.num_positions, size=count)
    k = encoding.num_choices[pos]
    out = np.broadcast_to(codes, (count, len(codes))).copy()
    rows = np.arange(count)
    out[rows, pos] = (out[rows, pos] + rng.integers(1, k)) % k
    return out


def first_new(
    encoding: CellEncoding, codes: np.ndarray, visited: set[int]
) -> tuple[int, np.ndarray]:
    """``(row, indices)``: the pool index of each code row (-1: not a candidate) and the first
    row that is a candidate not in ``visited`` (-1 if none)."""
    indices = encoding.lookup(codes)
    for row, index in enumerate(indices.tolist()):
        if index >= 0 and index not in visited:
            return row, indices
    return -1, indices


class DiscreteStrategy(Protocol):
    """What :func:`record_proposal` needs of a strategy: a :class:`~arch2vec.search.base.
    Strategy`'s ``problem`` and ``rng``, and the discrete bookkeeping it keeps."""

    @property
    def problem(self) -> SearchProblem: ...
    @property
    def rng(self) -> np.random.Generator: ...
    @property
    def encoding(self) -> CellEncoding: ...
    @property
    def visited(self) -> set[int]: ...
    @property
    def codes(self) -> dict[int, np.ndarray]: ...


def record_proposal(strategy: DiscreteStrategy, index: int, codes: np.ndarray | None) -> np.ndarray:
    """Mark ``index`` (with its ``codes``) proposed by a discrete strategy and return it as an
    ``ask`` answer; ``index < 0`` (no new cell found) falls back to a random unvisited candidate,
    and to an empty answer when none is left. The strategy keeps ``visited``, ``codes`` and
    ``encoding``."""
    if index < 0:
        found = sample_unvisited(strategy.problem, strategy.rng, strategy.visited, 1)
        if len(found) == 0:
            return found
        index = int(found[0])
        codes = strategy.encoding.codes_of([index], strategy.rng)[0]
    assert codes is not None  # a found index (>= 0) comes with its codes
    strategy.visited.add(index)
    strategy.codes[index] = codes
    return np.array([index], dtype=np.int64)
