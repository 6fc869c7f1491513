import json
from pathlib import Path

import numpy as np
import pytest

from arch2vec import search as a2v_search
from arch2vec import spaces
from arch2vec.evaluators.base import Evaluation, Evaluator
from arch2vec.executor import LocalExecutor
from arch2vec.search.base import Strategy
from arch2vec.search.random import RandomSearch
from arch2vec.search.record import run_file
from arch2vec.spaces.darts import NODE_TYPES

OP = {name: i for i, name in enumerate(NODE_TYPES)}
WEIGHT = np.zeros(len(NODE_TYPES))
for name, w in [("sep_conv_3x3", 2.0), ("sep_conv_5x5", 2.5), ("dil_conv_3x3", 1.5)]:
    WEIGHT[OP[name]] = w
WEIGHT[OP["dil_conv_5x5"]] = 1.8
WEIGHT[OP["max_pool_3x3"]] = 0.5


def true_reward(adjacency, ops):
    return 70.0 + float(WEIGHT[ops[2:10]].sum()) + 0.1 * float(adjacency.sum())


def reports_error(ops):
    return ops[2] == OP["avg_pool_3x3"]


def raises(ops):
    return ops[3] == OP["max_pool_3x3"] and not reports_error(ops)


def flaky(ops):
    return ops[5] == OP["identity"]


class FakeEvaluator(Evaluator):
    """Reward: a known function of the cell. Cells whose first op is avg_pool report an error,
    cells whose second op is max_pool raise on every attempt, and cells whose fourth op is a skip
    connection raise on their first attempt only (a marker file in ``flaky_dir``)."""

    name = "fake"
    space = "darts"

    def __init__(self, flaky_dir, candidates=None):
        self.flaky_dir = str(flaky_dir)
        self.evaluated = []  # cells keys, per attempt (inline executor only)
        self.subset = candidates

    def candidates(self, num_cells):
        return self.subset

    def evaluate(self, cells, *, indices=None, fidelity=None):
        out = Evaluation(np.full(len(cells), np.nan), np.zeros(len(cells)))
        for i in range(len(cells)):
            adj, ops = cells.adjacency[i], cells.ops[i]
            key = ops.tobytes().hex() + adj.tobytes().hex()
            self.evaluated.append(key)
            if raises(ops):
                raise RuntimeError("fake crash\nof the trainer")
            if flaky(ops):
                marker = Path(self.flaky_dir) / key[:64]
                if not marker.exists():
                    marker.write_text("x")
                    raise OSError("fake lost node")
            if reports_error(ops):
                out.error[i] = "fake: diverged"
                out.cost[i] = 5.0
                continue
            out.reward[i] = true_reward(adj, ops)
            out.cost[i] = 100.0 + out.reward[i]
            out.info[i] = {"edges": np.int64(adj.sum()), "curve": np.array([1.0, np.nan])}
        return out


@pytest.fixture(scope="module")
def darts():
    space = spaces.get("darts")
    pool = space.all()
    candidates = np.sort(np.random.default_rng(7).choice(len(pool), 2000, replace=False))
    features = np.random.default_rng(1).standard_normal((len(pool), 8), dtype=np.float32)
    return space, candidates, features


def search(darts, out, strategy="random", flaky_dir=None, evaluator=None, **kw):
    space, candidates, features = darts
    evaluator = evaluator or FakeEvaluator(flaky_dir or out.parent / f"{out.name}-flaky")
    evaluator.subset = candidates if evaluator.subset is None else evaluator.subset
    Path(evaluator.flaky_dir).mkdir(parents=True, exist_ok=True)
    kw = {"runs": 2, "budget_queries": 40, "seed": 0, **kw}
    result = a2v_search.run(
        strategy, evaluator, space=space, embeddings=features, out_dir=out, **kw
    )
    if out is not None:
        from arch2vec.analysis.draw import draw_best

        draw_best(space, result.summary, out / "best_cell.png")
    return result.summary


def rows_of(out, run):
    return [json.loads(x) for x in run_file(out, run).read_text().splitlines()]


def strip(summary):
    return {k: v for k, v in summary.items() if k != "wall_seconds"}


@pytest.mark.parametrize("strategy", ["random", "arch2vec-bo", "arch2vec-rl", "arch2vec-lbo"])
def test_search_records_every_query_and_failure(darts, tmp_path, strategy):
    space, candidates, _ = darts
    pool = space.all()
    out = tmp_path / "s"
    summary = search(darts, out, strategy)
    total_failures = 0
    for run in (0, 1):
        rows = rows_of(out, run)
        assert [r["query"] for r in rows] == list(range(40))
        indices = [r["index"] for r in rows]
        assert len(set(indices)) == 40 and set(indices) <= set(candidates.tolist())  # no re-query
        for r in rows:
            cell = pool[r["index"]]
            adj, ops = cell.adjacency[0], cell.ops[0]
            assert r["genotype"] == space.to_native(cell)[0]
            if raises(ops):
                assert r["reward"] is None and r["cost"] == 0.0
                assert r["error"] == "RuntimeError: fake crash of the trainer (after 3 attempts)"
            elif reports_error(ops):
                assert r["reward"] is None and r["error"] == "fake: diverged"
            else:  # flaky cells succeed on their retry
                assert r["error"] is None
                assert r["reward"] == pytest.approx(true_reward(adj, ops))
                assert r["info"] == {"edges": int(adj.sum()), "curve": [1.0, None]}
        assert any(flaky(pool[r["index"]].ops[0]) and r["error"] is None for r in rows)
        failures = sum(r["error"] is not None for r in rows)
        assert failures > 0  # the pool has enough failing cells for 40 queries to meet some
        total_failures += failures
        best = max((r for r in rows if r["reward"] is not None), key=lambda r: r["reward"])
        per_run = summary["per_run"][run]
        assert per_run["failures"] == failures and per_run["queries"] == 40
        assert per_run["best"] == pytest.approx({k: best[k] for k in ("index", "reward", "query")})
    assert summary["failures"] == total_failures and summary["runs"] == 2
    bests = [summary["per_run"][r]["best"]["reward"] for r in (0, 1)]
    assert summary["best"]["reward"] == max(bests)
    assert summary["best_reward_mean"] == pytest.approx(np.mean(bests))
    assert summary["best_reward_std"] == pytest.approx(np.std(bests))
    assert json.loads((out / "summary.json").read_text()) == summary
    assert (out / "best_cell.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert summary["best"]["genotype"] == space.to_native(pool[summary["best"]["index"]])[0]
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["strategy"] == strategy and config["evaluator"] == {
        "evaluator": "fake",
        "space": "darts",
    }
    assert config["budget_queries"] == 40 and config["runs"] == 2 and config["seed"] == 0
    assert config["candidates"]["count"] == 2000
    if strategy != "random":
        assert config["embeddings"]["shape"] == [600_000, 8]
    runs = [json.loads(x) for x in (out / "runs.jsonl").read_text().splitlines()]
    assert sorted(r["run"] for r in runs) == [0, 1]  # the report reads these, as for a table
    for r in runs:
        assert r["index"] == [q["index"] for q in rows_of(out, r["run"])]
        assert len(r["errors"]) == summary["per_run"][r["run"]]["failures"]


def kill(out, run, keep):
    """A run killed after ``keep`` records, in the middle of writing the next one: not finished,
    so not in runs.jsonl."""
    lines = run_file(out, run).read_text().splitlines(keepends=True)
    run_file(out, run).write_text("".join(lines[:keep]) + lines[keep][:25])
    finished = (out / "runs.jsonl").read_text().splitlines(keepends=True)
    kept = [x for x in finished if json.loads(x)["run"] != run]
    (out / "runs.jsonl").write_text("".join(kept))
    (out / "summary.json").unlink(missing_ok=True)
    (out / "best_cell.png").unlink(missing_ok=True)


@pytest.mark.parametrize("strategy", ["random", "arch2vec-bo", "arch2vec-rl", "arch2vec-lbo"])
def test_resume_after_a_kill_equals_an_uninterrupted_search(darts, tmp_path, strategy):
    full = strip(search(darts, tmp_path / "full", strategy))
    out = tmp_path / "killed"
    search(darts, out, strategy)
    kill(out, 0, 10)  # inside BO's first batch of 16 random cells
    kill(out, 1, 25)
    evaluator = FakeEvaluator(tmp_path / "killed-flaky")
    resumed = strip(search(darts, out, strategy, evaluator=evaluator, resume=True))
    assert resumed == full
    for run in (0, 1):
        assert run_file(out, run).read_text() == run_file(tmp_path / "full", run).read_text()
    # replayed, not re-evaluated: only the cells after the kill (a crashing cell: 3 attempts)
    pool = darts[0].all()
    attempts = sum(
        3 if raises(pool[r["index"]].ops[0]) else 1
        for run, keep in ((0, 10), (1, 25))
        for r in rows_of(out, run)[keep:]
    )
    assert len(evaluator.evaluated) == attempts
    assert (out / "best_cell.png").is_file()
    # a finished search resumes without evaluating anything
    again = FakeEvaluator(tmp_path / "killed-flaky")
    assert strip(search(darts, out, strategy, evaluator=again, resume=True)) == full
    assert again.evaluated == []


def test_resume_refuses_other_settings_and_may_add_runs(darts, tmp_path):
    out = tmp_path / "s"
    search(darts, out, runs=1, budget_queries=10)
    with pytest.raises(ValueError, match="resume it"):
        search(darts, out, runs=1, budget_queries=10)
    with pytest.raises(ValueError, match="other settings"):
        search(darts, out, runs=1, budget_queries=12, resume=True)
    with pytest.raises(ValueError, match="other settings"):
        search(darts, out, "evolution", runs=1, budget_queries=10, resume=True)
    more = search(darts, out, runs=3, budget_queries=10, resume=True)
    assert more["runs"] == 3
    fresh = search(darts, tmp_path / "fresh", runs=3, budget_queries=10)
    assert strip(more) == strip(fresh)


def test_parallel_runs_equal_serial_runs(darts, tmp_path):
    serial = strip(search(darts, tmp_path / "a", "arch2vec-bo", runs=3, budget_queries=20))
    with LocalExecutor(2) as ex:  # capacity 2: two runs at a time, each in its own thread
        parallel = strip(
            search(
                darts,
                tmp_path / "b",
                "arch2vec-bo",
                runs=3,
                budget_queries=20,
                executor=ex,
                parallel="evaluations",
            )
        )
    processes = strip(
        search(darts, tmp_path / "c", "arch2vec-bo", runs=3, budget_queries=20, workers=2)
    )
    assert parallel == serial == processes
    for run in range(3):
        text = run_file(tmp_path / "a", run).read_text()
        assert text == run_file(tmp_path / "b", run).read_text()
        assert text == run_file(tmp_path / "c", run).read_text()


class Broken(FakeEvaluator):
    def evaluate(self, cells, *, indices=None, fidelity=None):
        raise MemoryError("out of memory")


class Unpicklable(FakeEvaluator):
    def __init__(self, flaky_dir):
        super().__init__(flaky_dir)
        self.session = lambda: None  # like an open inference session


def test_a_search_where_everything_fails(darts, tmp_path):
    out = tmp_path / "s"
    with pytest.raises(RuntimeError, match="every evaluation failed .* out of memory"):
        search(darts, out, "arch2vec-bo", evaluator=Broken(tmp_path), runs=1, budget_queries=5)
    summary = json.loads((out / "summary.json").read_text())  # the record is written first
    assert summary["failures"] == 5 and summary["best"] is None
    assert summary["best_reward_mean"] is None and summary["per_run"][0]["best"] is None
    assert {r["error"] for r in rows_of(out, 0)} == {
        "MemoryError: out of memory (after 3 attempts)"
    }
    assert not (out / "best_cell.png").exists()


def test_an_evaluator_that_cannot_reach_the_workers_fails_first(darts, tmp_path):
    with (
        LocalExecutor(2) as ex,
        pytest.raises(ValueError, match=r"cannot send the evaluator \(Unpicklable\)"),
    ):
        search(
            darts,
            tmp_path / "s",
            evaluator=Unpicklable(tmp_path),
            executor=ex,
            parallel="evaluations",
        )
    assert not (tmp_path / "s" / "config.json").exists()
    with pytest.raises(ValueError, match=r"cannot send a search run"):
        search(darts, tmp_path / "u", evaluator=Unpicklable(tmp_path), workers=2)
    assert not (tmp_path / "u" / "config.json").exists()
    # inline, nothing is pickled
    inline = search(darts, tmp_path / "t", evaluator=Unpicklable(tmp_path), budget_queries=3)
    assert inline["runs"] == 2


class Repeater(Strategy):
    """Random batches of four new cells plus one cell it asked before; records what it is told."""

    told: dict[int, list] = {}

    def __init__(self, space, *, embeddings=None, candidates=None, seed=0):
        super().__init__(space, candidates=candidates, seed=seed)
        self.inner = RandomSearch(space, candidates=candidates, seed=self.rng)
        self.asked = []
        self.log = Repeater.told.setdefault(id(self), [])

    def ask(self):
        batch = [int(self.inner.ask()[0]) for _ in range(4)]
        if self.asked:
            batch.insert(2, self.asked[0])
        self.asked += batch
        return np.asarray(batch)

    def tell(self, indices, rewards, fidelity=None):
        self.log.append((np.asarray(indices).tolist(), np.asarray(rewards).tolist()))


def test_budget_repeats_are_free_and_the_last_batch_is_cut(darts, tmp_path):
    Repeater.told.clear()
    out = tmp_path / "r"
    search(darts, out, Repeater, runs=1, budget_queries=10)
    rows = {r["index"]: r for r in rows_of(out, 0)}
    assert len(rows) == 10
    (log,) = [log for log in Repeater.told.values() if log]  # one instance only checked args
    # batches: 4 new; 2 new + repeat + 2 new; 2 new + repeat (cut: the budget is spent)
    assert [len(indices) for indices, _ in log] == [4, 5, 3]
    assert log[1][0][2] == log[0][0][0] == log[2][0][2]
    for indices, rewards in log:
        for i, r in zip(indices, rewards, strict=True):
            expect = rows[i]["reward"]
            assert (np.isnan(r) and expect is None) or r == expect  # failures are told as NaN


def test_bad_arguments(darts, tmp_path):
    space, candidates, features = darts
    ev = FakeEvaluator(tmp_path)
    with pytest.raises(ValueError, match="needs embeddings"):
        a2v_search.run("arch2vec-bo", ev, space=space, budget_queries=5, out_dir=tmp_path / "a")
    with pytest.raises(ValueError, match="embeddings"):
        a2v_search.run("arch2vec-rl", ev, space=space, embeddings=features[:10], budget_queries=5)
    with pytest.raises(ValueError, match="candidates"):
        search(darts, tmp_path / "b", evaluator=FakeEvaluator(tmp_path, np.array([1, 1])))
    with pytest.raises(ValueError, match="has no parameter 'bogus'"):
        search(darts, tmp_path / "c", "arch2vec-bo", params={"bogus": 1})
    with pytest.raises(ValueError, match="top_k must be an integer in 1.."):
        search(darts, tmp_path / "c", "arch2vec-bo", params={"top_k": 0})
    assert not (tmp_path / "c" / "config.json").exists()

    class Nb201Evaluator(FakeEvaluator):
        space = "nb201"

    with pytest.raises(ValueError, match="nb201 cells, not darts"):
        search(darts, tmp_path / "d", evaluator=Nb201Evaluator(tmp_path))


def test_bohb_runs_with_an_evaluator_without_fidelities(darts, tmp_path):
    summary = search(darts, tmp_path / "b", "bohb", runs=1, budget_queries=12)
    assert summary["per_run"][0]["queries"] == 12


# ---------------------------------------------------------------------------------------------
# Ray: one local instance for this module (conftest's ray_instance)


def test_search_on_ray_equals_inline(darts, ray_instance, tmp_path):
    from arch2vec.executor import RayExecutor

    inline = strip(search(darts, tmp_path / "a", runs=2, budget_queries=20))
    ex = RayExecutor(retries=2)
    remote = strip(search(darts, tmp_path / "b", runs=2, budget_queries=20, executor=ex))
    assert remote == inline
    for run in range(2):
        assert (
            run_file(tmp_path / "a", run).read_text() == run_file(tmp_path / "b", run).read_text()
        )
