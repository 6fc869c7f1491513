"""Baseline search strategies: random, regularized evolution, REINFORCE and BOHB (Optuna)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import run_on as run

from arch2vec import benchmarks, spaces
from arch2vec.benchmarks.base import Benchmark
from arch2vec.search.base import Request, SearchProblem
from arch2vec.search.discrete import CellEncoding, first_new, mutate, sample_unvisited
from arch2vec.search.evolution import RegularizedEvolution
from arch2vec.search.random import RandomSearch
from arch2vec.search.reinforce import Reinforce
from arch2vec.spaces.cells import edit_distance

N201 = 15_625
TARGET = np.array([3, 3, 1, 2, 0, 4])  # hidden optimum of the toy: base-5 edge-op digits


def _bohb():
    pytest.importorskip("optuna")
    from arch2vec.search.bohb import BOHB

    return BOHB


@pytest.fixture(scope="module")
def problem() -> SearchProblem:
    space = spaces.get("nb201")
    return SearchProblem(space, np.arange(N201))


def _digits() -> np.ndarray:
    return (np.arange(N201)[:, None] // 5 ** np.arange(5, -1, -1)) % 5


@pytest.fixture(scope="module")
def toy() -> Benchmark:
    """Reward: percent of the six edge ops matching TARGET, plus a unique tie-break < 1."""
    r = 100 * (_digits() == TARGET).sum(axis=1) / 6 + np.random.default_rng(7).random(N201)
    return Benchmark("toy", "nb201", "toy", search=r, valid=r, test=r, cost=np.ones(N201))


@pytest.fixture(scope="module")
def toy_multi(toy) -> Benchmark:
    """The toy with cost 9 and two cheaper, noisier fidelities (cost 1 and 3) plus the full one."""
    noise = np.random.default_rng(8).random((2, N201))
    lo = toy.search - 8 * noise[0]
    mid = toy.search - 3 * noise[1]
    ones = np.ones(N201)
    fidelities = {"3": (mid, 3 * ones), "1": (lo, ones), "9": (toy.search, 9 * ones)}
    return Benchmark(
        "toy-multi",
        "nb201",
        "toy",
        toy.search,
        toy.valid,
        toy.test,
        9 * ones,
        fidelities=fidelities,
    )


def _make(name: str, problem, seed: int, **hyper):
    cls = {"random": RandomSearch, "evolution": RegularizedEvolution, "reinforce": Reinforce}
    cls = _bohb() if name == "bohb" else cls[name]
    return cls(problem.space, candidates=problem.candidates, seed=seed, **hyper)


def _checked(strategy):
    """Wrap ``ask`` to assert it never returns a pool index it returned before."""
    seen: set[int] = set()
    ask = strategy.ask

    def checked_ask():
        answer = ask()
        if isinstance(answer, Request):  # a lower-fidelity evaluation, not a proposal
            return answer
        out = np.asarray(answer)
        assert not seen.intersection(out.tolist()), "re-proposed a visited cell"
        assert len(set(out.tolist())) == len(out)
        seen.update(out.tolist())
        return out

    strategy.ask = checked_ask
    return strategy


# --------------------------------------------------------------------------- encoding, mutation


def test_nb201_encoding_round_trip_and_one_edit_mutations(problem):
    enc = CellEncoding.of(problem)
    assert enc.num_positions == 6 and enc.num_choices.tolist() == [5] * 6  # ops only
    rng = np.random.default_rng(0)
    idx = rng.choice(N201, size=40, replace=False)
    codes = enc.codes_of(idx, rng)
    assert (enc.lookup(codes) == idx).all()
    for c in codes:
        mutants = mutate(enc, c, rng, count=8)
        found = enc.lookup(mutants)
        assert (found >= 0).all()
        assert (edit_distance(enc.decode(c), enc.decode(mutants)) == 1).all()
        assert (edit_distance(enc.decode(c), problem.cells[found]) == 1).all()


def test_sample_unvisited_is_uniform_without_repeats(problem):
    rng = np.random.default_rng(1)
    visited = set(range(0, N201, 2))
    got = sample_unvisited(problem, rng, visited, 50)
    assert len(set(got.tolist())) == 50 and not visited.intersection(got.tolist())
    small = SearchProblem(problem.space, np.arange(5))
    assert sorted(sample_unvisited(small, rng, {1, 3}, 10).tolist()) == [0, 2, 4]
    assert len(sample_unvisited(small, rng, set(range(5)), 1)) == 0


# --------------------------------------------------------------------------- runs on NB-201


@pytest.mark.parametrize("name", ["random", "evolution", "reinforce", "bohb"])
def test_no_repeats_exact_budget_and_deterministic(name, problem, toy):
    hyper = {"population": 10, "sample": 3} if name == "evolution" else {}
    budget = 30
    a = run(_checked(_make(name, problem, 3, **hyper)), toy, 3, budget_queries=budget)
    assert len(a.index) == budget and len(set(a.index)) == budget
    b = run(_make(name, problem, 3, **hyper), toy, 3, budget_queries=budget)
    assert a.index == b.index and a.reward == b.reward
    c = run(_make(name, problem, 4, **hyper), toy, 4, budget_queries=budget)
    assert c.index != a.index


@pytest.mark.parametrize("name", ["random", "evolution", "reinforce", "bohb"])
def test_real_nb201_benchmark(name, problem):
    bench = benchmarks.load("nb201", "cifar10")
    strategy = _checked(_make(name, problem, 0))
    trace = run(strategy, bench, 0, budget_seconds=40_000)
    assert len(set(trace.index)) == len(trace.index) > 5
    assert trace.cost[-1] <= 40_000
    assert trace.best_reward[-1] <= bench.best_search
    assert np.isclose(trace.cost[-1], bench.cost[trace.index].sum())


def test_evolution_and_reinforce_beat_random_on_toy(problem, toy):
    """Seeded: mean best reward over three runs of 150 queries. REINFORCE with lr 1: its default
    0.1 on fraction rewards (NAS-Bench-101's setting) learns too slowly for this budget."""

    def mean_best(name, **hyper):
        runs = [run(_make(name, problem, s, **hyper), toy, s, budget_queries=150) for s in range(3)]
        return np.mean([t.best_reward[-1] for t in runs]), runs

    rand, _ = mean_best("random")
    evo, _ = mean_best("evolution")
    rl, rl_runs = mean_best("reinforce", lr=1.0)
    assert evo > rand + 10 and rl > rand + 10
    assert all(t.best_reward[-1] == toy.best_search for t in rl_runs)  # found the optimum


def test_evolution_population_ages(problem, toy):
    strategy = RegularizedEvolution(problem.space, seed=0, population=5, sample=2)
    trace = run(strategy, toy, 0, budget_queries=12)
    assert [i for i, _ in strategy.population] == trace.index[-5:]


def test_reinforce_moves_towards_reward(problem, toy):
    strategy = Reinforce(problem.space, seed=0, lr=1.0)
    run(strategy, toy, 0, budget_queries=60)
    probs = strategy.probabilities()
    assert probs.sum(axis=1) == pytest.approx(np.ones(6))
    target = strategy.encoding.codes_of([int(TARGET @ 5 ** np.arange(5, -1, -1))], strategy.rng)
    assert (probs[np.arange(6), target[0]] > 0.2).all()  # uniform is 0.2


def test_failed_evaluations_are_ignored(problem):
    """A NaN reward (a failed evaluation) neither joins the population nor moves REINFORCE."""
    evo = RegularizedEvolution(problem.space, seed=0, population=5, sample=2)
    asked = evo.ask()
    evo.tell(asked, np.full(len(asked), np.nan))
    assert len(evo.population) == 0
    rl = Reinforce(problem.space, seed=0, lr=1.0)
    before = rl.probabilities().copy()
    asked = rl.ask()
    rl.tell(asked, np.full(len(asked), np.nan))
    np.testing.assert_array_equal(rl.probabilities(), before)
    assert rl.baseline is None


# --------------------------------------------------------------------------- BOHB


def test_bohb_low_fidelities_are_asked_for_and_charged(problem, toy_multi):
    from arch2vec.evaluators.table import TableEvaluator, lower_fidelities

    BOHB = _bohb()
    assert list(lower_fidelities(toy_multi)) == ["1", "3"]
    fidelities = TableEvaluator(toy_multi).fidelities
    assert fidelities == ("1", "3")
    strategy = BOHB(problem.space, seed=0, fidelities=fidelities)
    assert strategy.steps == [1, 3]
    trace = run(_checked(strategy), toy_multi, 0, budget_queries=25)
    assert len(set(trace.index)) == len(trace.index) == 25
    pruned = [t for t in strategy.study.trials if t.state.name == "PRUNED"]
    assert pruned and strategy.low_fidelity_evaluations > 25
    low = sum(
        1.0 if step == 1 else 3.0 for t in strategy.study.trials for step in t.intermediate_values
    )
    assert trace.spent == pytest.approx(9.0 * 25 + low)  # full fidelity 9 s a query
    assert trace.evaluations == 25 + strategy.low_fidelity_evaluations
    again = BOHB(problem.space, seed=0, fidelities=fidelities)
    assert run(again, toy_multi, 0, budget_queries=25).index == trace.index


def test_bohb_low_fidelities_never_pass_a_time_budget(problem, toy_multi):
    BOHB = _bohb()
    strategy = BOHB(problem.space, seed=1, fidelities=("1", "3"))
    trace = run(strategy, toy_multi, 1, budget_seconds=100)
    assert trace.spent <= 100 and trace.cost[-1] <= 100


def test_bohb_without_fidelities_is_tpe(problem, toy):
    import optuna

    BOHB = _bohb()
    strategy = BOHB(problem.space, seed=0)
    assert isinstance(strategy.study.pruner, optuna.pruners.NopPruner)
    trace = run(strategy, toy, 0, budget_queries=15)
    assert strategy.low_fidelity_evaluations == 0 and trace.evaluations == 15


def test_bohb_projects_samples_outside_a_sparse_pool(problem, toy):
    """On a pool of 1 % of NB-201 nearly every TPE sample misses: it is mapped onto the nearest
    unvisited candidate (Hamming distance over the edge-op digits), never onto a visited one."""
    BOHB = _bohb()
    pool = np.sort(np.random.default_rng(3).choice(N201, size=156, replace=False))
    strategy = BOHB(problem.space, candidates=pool, seed=0)
    codes = strategy.encoding.codes_of(pool, np.random.default_rng(0))
    target = codes[0].copy()
    target[0] = (target[0] + 1) % 5  # one edit from pool[0]
    distance = (codes != target).sum(axis=1)
    assert distance[0] == 1 and distance.min() <= 1
    nearest = set(pool[distance == distance.min()].tolist())
    assert strategy._nearest(target) in nearest
    strategy.seen.update(nearest)  # visited: the next nearest unvisited candidates
    rest = distance.astype(float)
    rest[np.isin(pool, list(nearest))] = np.inf
    assert strategy._nearest(target) in set(pool[rest == rest.min()].tolist())
    strategy = _checked(BOHB(problem.space, candidates=pool, seed=0))
    trace = run(strategy, toy, 0, budget_queries=40)
    assert len(set(trace.index)) == 40 and set(trace.index) <= set(pool.tolist())
    assert strategy.projected > 20  # most samples missed the pool and were projected
    strategy.seen.update(pool.tolist())
    assert strategy._nearest(target) == -1  # every candidate visited
    before = _checked(BOHB(problem.space, candidates=pool, seed=0, project=False))
    trace = run(before, toy, 0, budget_queries=10)  # misses, then random cells: still valid
    assert len(set(trace.index)) == 10 and set(trace.index) <= set(pool.tolist())
    assert before.projected == 0 and len(before.study.trials) > 10 * before.max_tries // 2
    with pytest.raises(ValueError, match="project must be True or False"):
        BOHB(problem.space, candidates=pool, seed=0, project="yes")


def test_bohb_needs_optuna(problem, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    from arch2vec.search.bohb import BOHB

    with pytest.raises(ImportError, match="pip install optuna"):
        BOHB(problem.space, seed=0)


# --------------------------------------------------------------------------- NB-101


def test_nb101_encoding_mutation_and_search(nb101_space):
    cells = nb101_space.all()
    problem = SearchProblem(nb101_space, np.arange(len(cells)))
    enc = CellEncoding.of(problem)
    assert enc.num_choices.tolist() == [3] * 5 + [2] * 21  # 5 inner ops, 21 adjacency bits
    rng = np.random.default_rng(0)
    idx = rng.choice(len(cells), size=30, replace=False)
    codes = enc.codes_of(idx, rng)  # includes cells with < 7 nodes: output moved to node 6
    assert (enc.lookup(codes) == idx).all()
    for i, c in zip(idx.tolist(), codes, strict=True):
        mutants = mutate(enc, c, rng, count=16)
        assert ((mutants != c).sum(axis=1) == 1).all()
        row, found = first_new(enc, mutants, {i})
        assert row >= 0 and found[row] != i
        assert (
            nb101_space.hash(cells[found[row]])[0] == nb101_space.hash(enc.decode(mutants[row]))[0]
        )
    r = 10.0 * (cells.ops == 2).sum(axis=1) + np.random.default_rng(1).random(len(cells))
    toy = Benchmark("toy", "nb101", "toy", search=r, valid=r, test=r, cost=np.ones(len(cells)))
    for name in ("evolution", "reinforce"):
        hyper = {"population": 10, "sample": 3} if name == "evolution" else {}
        trace = run(_checked(_make(name, problem, 0, **hyper)), toy, 0, budget_queries=40)
        assert len(set(trace.index)) == len(trace.index) == 40
