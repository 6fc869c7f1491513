"""arch2vec-LBO (search/local_bo.py) on the NB-201 pool: neighbourhoods counted by hand, local
turns, screening at a lower fidelity, determinism, no re-query, budgets and failures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import Checked
from conftest import run_on as run

from arch2vec import spaces
from arch2vec.benchmarks.base import Benchmark
from arch2vec.search.base import Request, SearchProblem
from arch2vec.search.bo import ArchBO
from arch2vec.search.discrete import CellEncoding
from arch2vec.search.local_bo import ArchLocalBO, neighbourhood, one_edit
from arch2vec.spaces.cells import edit_distance

N201 = 15_625


@pytest.fixture(scope="module")
def nb201():
    space = spaces.get("nb201")
    cells = space.all()
    return space, cells, cells.onehot(7).reshape(N201, -1).astype(np.float64)


@pytest.fixture(scope="module")
def toy(nb201) -> Benchmark:
    """100 minus the feature distance to a hidden cell, cost 9, and a noisy cheaper fidelity."""
    _, _, feats = nb201
    reward = 100.0 - np.linalg.norm(feats - feats[4321], axis=1)
    low = reward - 2 * np.random.default_rng(3).random(N201)
    ones = np.ones(N201)
    return Benchmark(
        "toy", "nb201", "toy", reward, reward, reward, 9 * ones,
        fidelities={"1": (low, ones), "9": (reward, 9 * ones)},
    )  # fmt: skip


def make(nb201, bench, seed=0, **hyper):
    space, _, feats = nb201
    return ArchLocalBO(space, embeddings=feats, candidates=bench.pool, seed=seed, **hyper)


def test_neighbourhood_sizes_and_distances(nb201):
    """NB-201: six edge ops of five values; one edit reaches 6 x 4 = 24 cells, two edits
    24 + C(6, 2) x 4 x 4 = 264."""
    space, cells, _ = nb201
    enc = CellEncoding.of(SearchProblem(space, np.arange(N201)))
    rng = np.random.default_rng(0)
    for index in (0, 777, 15_624):
        codes = enc.codes_of([index], rng)
        assert one_edit(enc, codes).shape == (24, 6)
        one = neighbourhood(enc, codes, 1)
        two = neighbourhood(enc, codes, 2)
        assert len(one) == 24 and len(two) == 264 and set(one) < set(two)
        assert index not in set(two.tolist())
        assert (edit_distance(cells[index], cells[one]) == 1).all()
        assert sorted(set(edit_distance(cells[index], cells[two]).tolist())) == [1, 2]
    # cells 0 and 1 differ in one edge op: the 3 other values of that edge neighbour both, and
    # each is the other's neighbour but a start itself: 24 + 24 - 3 - 2 = 43
    assert edit_distance(cells[0], cells[[1]])[0] == 1
    assert len(neighbourhood(enc, enc.codes_of([0, 1], rng), 1)) == 43


def test_finds_optimum_deterministic_no_repeats(nb201, toy):
    strategy = make(nb201, toy, seed=0, fidelities=())
    trace = run(Checked(strategy), toy, 0, budget_queries=30)
    assert len(trace.index) == len(set(trace.index)) == 30
    assert 4321 in trace.index  # random search: 30 / 15625 = 0.2 % chance
    again = run(make(nb201, toy, seed=0, fidelities=()), toy, 0, budget_queries=30)
    assert again.index == trace.index and again.reward == trace.reward
    other = run(make(nb201, toy, seed=1, fidelities=()), toy, 1, budget_queries=30)
    assert other.index[:8] != trace.index[:8]


def test_local_turns_stay_near_the_best_cells(nb201, toy):
    _, cells, _ = nb201
    strategy = make(nb201, toy, seed=2, init=8, local_every=2, local_top=3, radius=2)
    first = strategy.ask()
    assert len(first) == 8  # the random start, one batch
    strategy.tell(first, toy.search[first])
    glob = strategy.ask()  # EI iteration 1: global
    strategy.tell(glob, toy.search[glob])
    observed = np.asarray(strategy.observed)
    top = observed[np.argsort(-toy.search[observed])[:3]]
    near = strategy.ask()  # EI iteration 2: local
    assert len(near) == 1
    assert edit_distance(cells[near[0]], cells[top]).min() <= 2


def test_lbo_without_local_turns_or_screening_is_arch2vec_bo(nb201, toy):
    """With local_every=0, no fidelities and arch2vec-BO's init, the decisions are arch2vec-BO's:
    the surrogate is the one on the pre-trained embeddings given."""
    lbo = make(nb201, toy, seed=4, init=16, local_every=0, fidelities=())
    _, _, feats = nb201
    bo = ArchBO(nb201[0], embeddings=feats, candidates=toy.pool, seed=4)
    assert run(lbo, toy, 4, budget_queries=24).index == run(bo, toy, 4, budget_queries=24).index


def test_screening_at_the_cheapest_fidelity_is_charged(nb201, toy):
    from arch2vec.evaluators.table import TableEvaluator

    fidelities = TableEvaluator(toy).fidelities
    assert fidelities == ("1",)
    strategy = make(nb201, toy, seed=0, fidelities=fidelities, screen=4)
    trace = run(Checked(strategy), toy, 0, budget_queries=20)
    assert len(set(trace.index)) == len(trace.index) == 20
    # 12 EI proposals, 4 candidates screened for each; one screened before is not evaluated
    # again (a candidate not chosen may return in a later screen)
    low = strategy.low_fidelity_evaluations
    assert low == len(strategy.low) and 12 + 3 <= low <= 12 * 4
    assert trace.evaluations == 20 + low
    assert trace.spent == pytest.approx(9.0 * 20 + 1.0 * low)
    # each EI proposal is the best of its screen at the cheap fidelity
    for index in trace.index[8:]:
        assert index in strategy.low
    again = make(nb201, toy, seed=0, fidelities=fidelities, screen=4)
    assert run(again, toy, 0, budget_queries=20).index == trace.index


def test_screen_resolution_and_a_time_budget(nb201, toy):
    strategy = make(nb201, toy, seed=5, fidelities=("1",), screen=3)
    start = strategy.ask()
    strategy.tell(start, toy.search[start])
    request = strategy.ask()
    assert isinstance(request, Request) and request.fidelity == "1"
    assert len(request.indices) == 3
    low = np.array([50.0, math.nan, 99.0])
    strategy.tell(request.indices, low, fidelity="1")
    assert strategy.observed == start.tolist()  # lower fidelities are not observations
    assert strategy.ask().tolist() == [request.indices[2]]
    timed = make(nb201, toy, seed=6, fidelities=("1",))
    trace = run(timed, toy, 6, budget_seconds=250)
    assert trace.spent <= 250 and trace.cost[-1] <= 250


def test_failures_are_visited_not_observed(nb201, toy):
    strategy = make(nb201, toy, seed=7, fidelities=())
    first = strategy.ask()
    rewards = toy.search[first].copy()
    rewards[::2] = np.nan
    strategy.tell(first, rewards)
    assert strategy.observed == first[1::2].tolist()
    assert strategy.visited[first].all()
    for _ in range(6):
        got = strategy.ask()
        assert not set(got.tolist()) & set(first.tolist())
        strategy.tell(got, np.full(len(got), np.nan))
    assert len(strategy.observed) == 4 and all(math.isfinite(r) for r in strategy.rewards)


def test_parameters_are_checked(nb201, toy):
    with pytest.raises(ValueError, match="radius"):
        make(nb201, toy, radius=0)
    with pytest.raises(ValueError, match="screen"):
        make(nb201, toy, screen=0)
    with pytest.raises(ValueError, match="fidelities"):
        make(nb201, toy, fidelities="12")


def test_latent_neighbours_where_no_edit_neighbour_is_a_candidate(nb201, toy):
    """A sampled pool of 300 cells: the nearest cells in the embedding, by hand, and a run that
    never repeats a cell."""
    pool = np.random.default_rng(9).choice(N201, size=300, replace=False)
    reward = np.full(N201, np.nan)
    reward[pool] = toy.search[pool]
    sparse = Benchmark("toy", "nb201", "toy", reward, reward, reward, toy.cost)
    pool = np.sort(pool)
    assert (sparse.pool == pool).all()
    strategy = make(nb201, sparse, seed=1, latent_neighbours=5, fidelities=())
    first = strategy.ask()
    strategy.tell(first, toy.search[first])
    top = first[:2]
    got = strategy._latent_neighbours(top)
    x = strategy._x
    free = pool[~np.isin(pool, first)]
    want = set()
    for cell in top:
        d = np.square(x[free].astype(np.float64) - x[cell]).sum(axis=1)
        want.update(free[np.argsort(d, kind="stable")[:5]].tolist())
    assert set(got.tolist()) == want and len(got) <= 10
    trace = run(
        Checked(make(nb201, sparse, seed=1, radius=1, fidelities=())), sparse, 1, budget_queries=60
    )
    assert len(set(trace.index)) == 60 and set(trace.index) <= set(pool.tolist())
