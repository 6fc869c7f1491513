"""The predictor benchmark (issue 15, part 1): metrics against hand-computed values, the path
encoding on hand-drawn DAGs, the protocol (one training sample per size and seed, nested sizes,
determinism), parameter errors, and one small run through the command line on NB-201."""

from __future__ import annotations

import json
import math
from functools import partial

import numpy as np
import pytest

from arch2vec import io, spaces
from arch2vec.analysis import predictors as pr
from arch2vec.cli import build_parser, main
from arch2vec.spaces.cells import PAD, Cells
from arch2vec.spaces.paths import cell_paths, cut_ops, path_encoding, path_names

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def one_thread():
    """One BLAS / OpenMP thread, as :func:`run_predictors` runs them (fast on a busy machine)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


# ---------------------------------------------------------------------------------------------
# Metrics, by hand


def test_metrics_of_one_swap_in_five_cells():
    true = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    pred = np.array([1.0, 2.0, 3.0, 5.0, 4.0])
    m = pr.prediction_metrics(true, pred, top_fraction=0.2)  # k = 1
    # 10 pairs, one discordant: tau = (9 - 1) / 10
    assert m["kendall_tau"] == pytest.approx(0.8)
    # rank differences 0, 0, 0, 1, 1: rho = 1 - 6 * 2 / (5 * 24)
    assert m["spearman_rho"] == pytest.approx(0.9)
    # same mean and variance (10 about the mean): r = 1 - sum d^2 / (2 * 10)
    assert m["pearson_r"] == pytest.approx(0.9)
    assert m["rmse"] == pytest.approx(math.sqrt(2 / 5))
    assert m["top_precision"] == 0.0  # the best cell (5) is predicted second
    reverse = pr.prediction_metrics(true, true[::-1].copy())
    assert reverse["kendall_tau"] == pytest.approx(-1.0)
    assert reverse["spearman_rho"] == pytest.approx(-1.0)


def test_top_precision_by_hand():
    true = np.arange(20.0)
    assert pr.top_precision(true, true) == 1.0  # 5 % of 20: k = 1
    swapped = true.copy()
    swapped[[18, 19]] = swapped[[19, 18]]
    assert pr.top_precision(true, swapped) == 0.0
    ten = np.arange(10.0)
    pred = ten.copy()
    pred[3] = 100.0  # predicted top 2: cells 3 and 9; true top 2: 8 and 9
    assert pr.top_precision(ten, pred, fraction=0.2) == 0.5
    # a constant prediction: every cell is in the predicted top with probability k / n
    assert pr.top_precision(true, np.zeros(20)) == pytest.approx(1 / 20)
    # ties in the truth at the k-th place: cells 3 and 4 each in the true top 1 with p = 1/2
    assert pr.top_precision(np.array([0.0, 0, 0, 5, 5]), np.array([0.0, 1, 2, 4, 3]), 0.2) == 0.5
    assert pr.top_precision(np.arange(40.0), np.arange(40.0), fraction=0.05) == 1.0  # k = 2


def test_metrics_undefined_cases():
    m = pr.prediction_metrics(np.arange(5.0), np.full(5, 2.0))
    assert math.isnan(m["kendall_tau"]) and math.isnan(m["pearson_r"])
    assert m["rmse"] == pytest.approx(math.sqrt(2.0))
    bad = pr.prediction_metrics(np.arange(5.0), np.array([1.0, np.nan, 0, 0, 0]))
    assert all(math.isnan(v) for v in bad.values())


# ---------------------------------------------------------------------------------------------
# Path encoding, by hand


def _dag(edges, ops, n):
    adj = np.zeros((n, n), dtype=np.uint8)
    for i, j in edges:
        adj[i, j] = 1
    return Cells(adj, np.asarray(ops))


def test_paths_of_a_tiny_dag():
    # 0 -> 1 -> 3, 0 -> 2 -> 3, 0 -> 3: three paths; ops in, a, b, out (vocabulary of 4)
    diamond = [(0, 1), (0, 2), (1, 3), (2, 3), (0, 3)]
    cell, code = cell_paths(_dag(diamond, [0, 1, 2, 3], 4), num_ops=4)
    assert cell.tolist() == [0, 0, 0]
    ops = ["in", "a", "b", "out"]
    # digits op + 1 in base 5: in~out = 1 * 5 + 4, in~a~out = (1 * 5 + 2) * 5 + 4, ...
    assert sorted(code.tolist()) == [9, 39, 44]
    assert path_names(sorted(code.tolist()), ops) == ["in~out", "in~a~out", "in~b~out"]
    # nodes 1 and 2 with the same op: three paths, two distinct (binary encoding)
    same = _dag(diamond, [0, 1, 1, 3], 4)
    assert len(cell_paths(same, 4)[1]) == 3
    feats, paths = path_encoding(same, 4)
    assert paths.tolist() == [9, 39] and feats.tolist() == [[1.0, 1.0]]
    # a node whose op carries no data cuts the paths through it
    assert len(cell_paths(_dag(diamond, [0, 1, 2, 3], 4), 4, cut=[1])[1]) == 2


def test_paths_count_of_a_complete_dag_and_padding():
    complete = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    _, code = cell_paths(_dag(complete, [0, 1, 1, 1, 2], 5), num_ops=3)
    assert len(code) == 2**3  # each of the 3 middle nodes on the path or not
    assert len(np.unique(code)) == 4  # by length: 0, 1, 2 or 3 middle nodes
    # a padded cell (nodes 3 and 4 absent) beside it: 0 -> 1 -> 2 and 0 -> 2
    padded = _dag([(0, 1), (1, 2), (0, 2)], [0, 1, 2, PAD, PAD], 5)
    both = Cells.concat([_dag(complete, [0, 1, 1, 1, 2], 5), padded])
    cell, code = cell_paths(both, 3)
    assert np.bincount(cell).tolist() == [8, 2]
    feats, paths = path_encoding(both, 3)
    assert feats.shape == (2, 4) and feats.sum(axis=1).tolist() == [4, 2]
    # columns of another vocabulary: paths outside it are left out
    few, _ = path_encoding(padded, 3, paths=paths[:1])
    assert few.tolist() == [[1.0]]


def test_nb201_paths():
    space = spaces.get("nb201")
    cells = space.all()
    feats, paths = path_encoding(cells, len(space.ops), cut_ops(space.ops))
    assert len(paths) == 4 + 4**2 + 4**3  # lengths 1-3 over the four ops that carry data
    none = space.ops.index("none")
    no_none = ~(cells.ops == none).any(axis=1)
    assert (feats[no_none].sum(axis=1) <= 4).all() and feats[no_none].sum(axis=1).max() == 4
    _, every = cell_paths(cells[np.flatnonzero(no_none)[:50]], len(space.ops))
    assert len(every) == 4 * 50  # each NB-201 cell has four input-output paths
    assert feats[(cells.ops[:, 1:-1] == none).all(axis=1)].sum() == 0


# ---------------------------------------------------------------------------------------------
# The protocol on arrays


def _toy(n=120, d=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = 80 + 3 * x[:, 0] - 2 * x[:, 1] ** 2 + 0.3 * rng.normal(size=n)
    return {"good": x, "noise": rng.normal(size=(n, d))}, y


FAST = ("dngo", "gbt")
QUICK = {"dngo": pr.dngo_regressor, "gbt": partial(pr.gbt_regressor, max_iter=20)}


def _without_seconds(result):
    return {
        rep: {
            reg: {size: {k: v for k, v in m.items() if k != "seconds"} for size, m in r.items()}
            for reg, r in by_reg.items()
        }
        for rep, by_reg in result["results"].items()
    }


def test_every_pair_sees_the_same_training_cells_nested_by_size():
    reps, y = _toy()
    seen = []

    def spy(name):
        def fit(x, train, targets, test, seed):
            seen.append((name, len(train), seed, tuple(train)))
            assert len(set(train) | set(test)) == len(y) and not set(train) & set(test)
            np.testing.assert_array_equal(targets, y[train])
            return np.full(len(test), float(np.mean(targets)))

        return fit

    pr.predictor_benchmark(reps, y, [8, 16], seeds=2, regressors={"a": spy("a"), "b": spy("b")})
    assert len(seen) == 2 * 2 * 2 * 2
    by_key = {}
    for _name, size, seed, train in seen:
        by_key.setdefault((size, seed), set()).add(train)
    assert all(len(v) == 1 for v in by_key.values())  # one sample per (size, seed)
    for seed in (0, 1):
        (small,), (large,) = by_key[(8, seed)], by_key[(16, seed)]
        assert large[:8] == small  # the 16 cells extend the 8
    assert by_key[(8, 0)] != by_key[(8, 1)]


def test_deterministic_for_a_seed():
    reps, y = _toy()
    a = pr.predictor_benchmark(reps, y, [10, 40], seeds=2, regressors=QUICK, seed=3)
    b = pr.predictor_benchmark(reps, y, [10, 40], seeds=2, regressors=QUICK, seed=3)
    assert _without_seconds(a) == _without_seconds(b)
    one = pr.predictor_benchmark(reps, y, [10, 40], seeds=1, regressors=QUICK, seed=4)
    for rep in reps:
        for reg in FAST:
            for size in ("10", "40"):
                two = a["results"][rep][reg][size]["kendall_tau"]
                assert one["results"][rep][reg][size]["kendall_tau"]["per_seed"] == [
                    two["per_seed"][1]
                ]
                assert two["mean"] == pytest.approx(np.mean(two["per_seed"]))
                assert two["std"] == pytest.approx(np.std(two["per_seed"], ddof=1))
    good = a["results"]["good"]["gbt"]["40"]["kendall_tau"]["mean"]
    assert good > 0.4 > a["results"]["noise"]["gbt"]["40"]["kendall_tau"]["mean"]
    assert a["config"]["seed_values"] == [3, 4]


def test_every_regressor_learns_a_smooth_function():
    reps, y = _toy(n=150)
    out = pr.predictor_benchmark({"good": reps["good"]}, y, [60], seeds=1)
    for reg in pr.REGRESSORS:
        assert out["results"]["good"][reg]["60"]["spearman_rho"]["mean"] > 0.5, reg


def test_learnt_representation_is_called_per_size_and_seed():
    reps, y = _toy()
    calls = []

    def learnt(train, seed):
        calls.append((len(train), seed))
        return reps["good"][:, :2]

    pr.predictor_benchmark({"learnt": learnt}, y, [8, 12], seeds=2, regressors=("dngo",))
    assert calls == [(8, 0), (12, 0), (8, 1), (12, 1)]


def test_parameter_errors():
    reps, y = _toy(n=30)
    with pytest.raises(ValueError, match="train_sizes"):
        pr.predictor_benchmark(reps, y, [30], seeds=1)  # nothing left to score
    with pytest.raises(ValueError, match="train_sizes"):
        pr.predictor_benchmark(reps, y, [1], seeds=1)
    with pytest.raises(ValueError, match="regressors"):
        pr.predictor_benchmark(reps, y, [8], seeds=1, regressors=("svm",))
    with pytest.raises(ValueError, match="seeds"):
        pr.predictor_benchmark(reps, y, [8], seeds=0)
    with pytest.raises(ValueError, match="representations"):
        pr.predictor_benchmark({"short": reps["good"][:10]}, y, [8], seeds=1)
    with pytest.raises(ValueError, match="rewards"):
        pr.predictor_benchmark(reps, np.r_[y[:-1], np.nan], [8], seeds=1)


def test_embeddings_names(tmp_path):
    run = tmp_path / "nb201-gae"
    run.mkdir()
    named = pr.embeddings_by_name([str(run), f"vgae={tmp_path / 'x.npz'}"])
    assert list(named) == ["nb201-gae", "vgae"]
    assert named["vgae"] == tmp_path / "x.npz"
    assert list(pr.embeddings_by_name([tmp_path / "b.npz"])) == ["b"]
    with pytest.raises(ValueError, match="named 'nb201-gae'"):
        pr.embeddings_by_name([str(run), run / "embeddings.npz"])
    with pytest.raises(ValueError, match="'flat' is taken"):
        pr.embeddings_by_name([f"flat={run}"])


# ---------------------------------------------------------------------------------------------
# End to end on NB-201


@pytest.fixture(scope="module")
def embeddings(tmp_path_factory):
    cells = spaces.get("nb201").all()
    onehot = cells.onehot(7).reshape(len(cells), -1).astype(np.float32)
    proj = np.random.default_rng(0).normal(size=(onehot.shape[1], 8)).astype(np.float32)
    path = tmp_path_factory.mktemp("emb") / "embeddings.npz"
    io.save_arrays(path, {"space": "nb201"}, embeddings=onehot @ proj / 4)
    return path


def test_cli_end_to_end(embeddings, tmp_path, capsys):
    out = tmp_path / "pred"
    argv = ["analyze", "predictors", "--embeddings", f"random={embeddings}", "--benchmark"]
    argv += ["nb201", "--dataset", "cifar10", "--train-sizes", "16", "32", "--seeds", "2"]
    argv += ["--regressors", *FAST, "--include", "flat", "path", "--out", str(out)]
    assert main([*argv, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert set(results) == {"random", "flat", "path"}
    saved = json.loads((out / "predictors.json").read_text())
    assert saved["results"] == results
    assert saved["config"]["train_sizes"] == [16, 32] and saved["config"]["seeds"] == 2
    assert saved["config"]["pool_size"] == 15625 and saved["dataset"] == "cifar10"
    assert saved["arch2vec"] and saved["embeddings"] == {"random": str(embeddings)}
    for rep in results.values():
        assert set(rep) == set(FAST)
        for by_size in rep.values():
            assert set(by_size) == {"16", "32"}
            for size in by_size.values():
                assert set(size) == {*pr.METRICS, "seconds"}
                for metric in pr.METRICS:
                    assert len(size[metric]["per_seed"]) == 2
                tau = size["kendall_tau"]["mean"]
                assert -1 <= tau <= 1 and 0 <= size["top_precision"]["mean"] <= 1
    assert (out / "predictors.png").read_bytes()[:8] == PNG
    # the table, without --json
    assert main([*argv, "--seeds", "1", "--train-sizes", "16", "--include"]) == 0
    text = capsys.readouterr().out
    assert "Kendall tau" in text and "random" in text and "flat" not in text


def test_supervised_representation(embeddings, tmp_path):
    result = pr.run_predictors(
        None,
        "nb201",
        tmp_path,
        train_sizes=[16],
        seeds=1,
        regressors=("dngo",),
        include=("supervised",),
        supervised_options={"epochs": 2},
    )
    tau = result["results"]["supervised"]["dngo"]["16"]["kendall_tau"]["per_seed"][0]
    assert -1 <= tau <= 1
    assert result["representation_seconds"]["supervised"]["16"][0] > 0


def test_cli_bad_input_exits_2(embeddings, tmp_path, capsys):
    argv = ["analyze", "predictors", "--embeddings", str(embeddings), "--benchmark", "nb201"]
    argv += ["--out", str(tmp_path / "bad"), "--include", "flat", "--regressors", "dngo"]
    assert main([*argv, "--train-sizes", "16", "15625"]) == 2
    err = capsys.readouterr().err
    assert "arch2vec: error: train_sizes: 15625" in err
    with pytest.raises(SystemExit) as e:
        main([*argv, "--regressors", "svm"])
    assert e.value.code == 2


def test_cli_defaults_match_the_library():
    args = build_parser().parse_args(["analyze", "predictors", "--benchmark", "nb201"])
    assert tuple(args.train_sizes) == pr.TRAIN_SIZES and args.seeds == 10
    assert args.out == "runs/analysis/predictors"
    argv = ["analyze", "predictors", "--benchmark", "nb201", "--regressors", *pr.REGRESSORS]
    argv += ["--include", *pr.INCLUDE]
    args = build_parser().parse_args(argv)
    assert args.regressors == list(pr.REGRESSORS) and args.include == list(pr.INCLUDE)


def test_undefined_seeds_are_left_out_of_the_mean_and_counted():
    from arch2vec.analysis.predictors import _summarise

    got = _summarise([0.5, float("nan"), 0.7])
    assert got["mean"] == pytest.approx(0.6) and got["std"] == pytest.approx(0.1414213562)
    assert got["undefined"] == 1 and len(got["per_seed"]) == 3
    every = _summarise([float("nan")] * 2)
    assert np.isnan(every["mean"]) and every["undefined"] == 2


def test_finetuned_starts_from_the_pretrained_encoder(tmp_path):
    """Fine-tuning starts from the run's encoder: with no training steps, the representation is
    the pre-trained embedding itself (the mean of the encoder's node means over real nodes)."""
    import torch

    from arch2vec import Arch2Vec
    from arch2vec.models.regressor import supervised_embedding
    from arch2vec.models.vgae import cell_tensors, encode, pool_nodes

    space = spaces.get("nb201")
    cells = space.all()
    run = tmp_path / "run"
    model = Arch2Vec("nb201", epochs=1, batch_size=512, seed=0).fit(run_dir=run).model_
    idx = np.arange(0, len(cells), 97)
    state = model.encoder.state_dict()
    got = supervised_embedding(
        space, cells, idx[:8], np.arange(8.0), 0, epochs=0, indices=idx, init_encoder=state
    )
    data = cell_tensors(cells[idx], len(space.ops))
    mu, _ = encode(model, data)
    np.testing.assert_allclose(got, pool_nodes(mu, data["ops"]).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="init_encoder does not fit"):
        bad = {k: torch.zeros(3) if k.endswith("bias") else v for k, v in state.items()}
        supervised_embedding(space, cells, idx[:8], np.arange(8.0), 0, init_encoder=bad)
    result = pr.run_predictors(
        {"a2v": run},
        "nb201",
        tmp_path / "out",
        train_sizes=[16],
        seeds=1,
        regressors=("dngo",),
        include=("finetuned",),
        supervised_options={"epochs": 2},
    )
    assert set(result["results"]) == {"a2v", "a2v+finetuned"}
    with pytest.raises(ValueError, match="needs an arch2vec pre-training run"):
        pr.run_predictors(
            {"npz": run / "embeddings.npz"},
            "nb201",
            tmp_path / "o2",
            train_sizes=[16],
            seeds=1,
            regressors=("dngo",),
            include=("finetuned",),
        )


# ---------------------------------------------------------------------------------------------
# Functional forms, end-to-end predictors, the ensemble (issue 20, part 3)


def test_nb201_functional_forms_by_hand():
    """Nodes 1..6 are the edges 0>1, 0>2, 1>2, 0>3, 1>3, 2>3 of the NB-201 cell."""
    space = spaces.get("nb201")
    op = {name: k for k, name in enumerate(space.ops)}

    def cell(**edges):
        names = ["none"] * 6
        for key, value in edges.items():
            names[int(key[1:])] = value
        return space.from_native([nb201_arch(names)])

    only_direct = cell(e3="conv3x3")  # 0>3 only
    with_dead_branch = cell(e3="conv3x3", e0="conv1x1")  # 0>1 leads nowhere
    canon, hashes = space.functional(Cells.concat([only_direct, with_dead_branch]))
    np.testing.assert_array_equal(canon.ops[0], canon.ops[1])
    assert canon.ops[1, 1] == op["none"] and hashes[0] == hashes[1]
    cut_off = cell(e0="conv3x3", e2="conv3x3")  # 0>1>2, nothing reaches node 3
    nothing = cell()
    via_one = cell(e0="conv3x3", e4="conv1x1")  # 0>1>3
    via_two = cell(e1="conv3x3", e5="conv1x1")  # 0>2>3: the same chain of ops
    swapped = cell(e0="conv1x1", e4="conv3x3")  # the chain in the other order
    canon, hashes = space.functional(Cells.concat([cut_off, nothing, via_one, via_two, swapped]))
    assert (canon.ops[0, 1:-1] == op["none"]).all() and hashes[0] == hashes[1]
    assert hashes[2] == hashes[3] != hashes[4]
    np.testing.assert_array_equal(canon.ops[2], via_one.ops[0])  # all live: unchanged
    _, every = space.functional(space.all())
    assert len(np.unique(every)) == 8765


def nb201_arch(names):
    a = names
    return f"|{a[0]}~0|+|{a[1]}~0|{a[2]}~1|+|{a[3]}~0|{a[4]}~1|{a[5]}~2|".replace(
        "conv3x3", "nor_conv_3x3"
    ).replace("conv1x1", "nor_conv_1x1")


def test_other_spaces_are_their_own_functional_form(nb101_space):
    cells = nb101_space.all()[:50]
    canon, hashes = nb101_space.functional(cells)
    np.testing.assert_array_equal(canon.ops, cells.ops)
    np.testing.assert_array_equal(hashes, nb101_space.hash(cells))


def test_predictors_and_groups():
    """An end-to-end predictor is scored as ``(name, OWN)``; with groups every prediction is
    the mean over the scored cells of its group."""
    reps, y = _toy(n=40)
    calls = []

    def oracle(train, targets, seed):
        calls.append((len(train), seed))
        np.testing.assert_array_equal(targets, y[train])
        return y.copy()

    out = pr.predictor_benchmark(
        {}, y, [10], seeds=2, regressors=("dngo",), predictors={"oracle": oracle}
    )
    assert calls == [(10, 0), (10, 1)]
    assert out["results"]["oracle"][pr.OWN]["10"]["kendall_tau"]["mean"] == pytest.approx(1.0)
    groups = np.arange(40) // 2  # cells 2k and 2k+1 build one network
    got = pr.predictor_benchmark(
        {}, y, [10], seeds=1, regressors=("dngo",), predictors={"o": oracle}, groups=groups
    )
    order = np.random.default_rng(0).permutation(40)
    test = np.sort(order[10:])
    pair = {}
    for i in test:
        pair.setdefault(i // 2, []).append(y[i])
    want = np.array([np.mean(pair[i // 2]) for i in test])
    tau = pr.prediction_metrics(y[test], want)["kendall_tau"]
    assert got["results"]["o"][pr.OWN]["10"]["kendall_tau"]["mean"] == pytest.approx(tau)
    assert tau < 1 and got["config"]["functional_groups"] == 20
    with pytest.raises(ValueError, match="groups"):
        pr.predictor_benchmark({}, y, [10], seeds=1, predictors={"o": oracle}, groups=groups[:5])
    with pytest.raises(ValueError, match="returned"):
        pr.predictor_benchmark({}, y, [10], seeds=1, predictors={"o": lambda t, v, s: v})


def test_gin_ensemble_predictions():
    """The ensemble is the mean of its members, deterministic for a seed, and learns a ranking
    of the cells it was trained on."""
    from scipy import stats

    from arch2vec.models.regressor import gin_predictions

    space = spaces.get("nb201")
    cells = space.all()
    idx = np.arange(0, len(cells), 61)[:64]
    y = 50 + 10.0 * (cells.ops[idx] == space.ops.index("conv3x3")).sum(axis=1)
    kw = dict(epochs=30, indices=idx)
    two = gin_predictions(space, cells, idx, y, 3, members=2, **kw)
    np.testing.assert_array_equal(two, gin_predictions(space, cells, idx, y, 3, members=2, **kw))
    one = gin_predictions(space, cells, idx, y, 3, members=1, **kw)
    assert not np.allclose(one, two)
    assert stats.kendalltau(y, two).statistic > 0.7
    plain = gin_predictions(space, cells, idx, y, 3, members=1, rank_weight=0.0, **kw)
    assert not np.allclose(one, plain)  # the ranking term trains another network
    with pytest.raises(ValueError, match="members"):
        gin_predictions(space, cells, idx, y, 3, members=0)


def test_ensemble_and_functional_through_the_cli(tmp_path, capsys):
    from arch2vec import Arch2Vec

    run = tmp_path / "run"
    Arch2Vec("nb201", epochs=1, batch_size=512, seed=0).fit(run_dir=run)
    out = tmp_path / "pred"
    argv = ["analyze", "predictors", "--embeddings", f"a2v={run}", "--benchmark", "nb201"]
    argv += ["--train-sizes", "16", "--seeds", "1", "--regressors", "gbt", "--include"]
    argv += ["ensemble", "flat", "--functional", "--out", str(out), "--json"]
    assert main(argv) == 0
    results = json.loads(capsys.readouterr().out)
    assert set(results) == {"a2v", "flat", "a2v+ensemble"}
    assert set(results["a2v+ensemble"]) == {pr.OWN}
    saved = json.loads((out / "predictors.json").read_text())
    assert saved["config"]["functional"] is True and saved["config"]["functional_groups"] > 8000
