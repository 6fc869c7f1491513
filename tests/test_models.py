import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from arch2vec.cli import main
from arch2vec.models.gin import GCNEncoder, GINEncoder
from arch2vec.models.metrics import reconstruction_rates, validity_uniqueness
from arch2vec.models.run import load_run, pretrain
from arch2vec.models.train import PretrainConfig, split
from arch2vec.models.vgae import GraphAutoencoder, cell_tensors, decode, pool_nodes
from arch2vec.spaces import get
from arch2vec.spaces.cells import PAD, Cells


def small_config(tmp_path, **kw):
    base = {"space": "nb201", "epochs": 2, "batch_size": 64, "data_dir": str(tmp_path / "data")}
    return PretrainConfig(**{**base, **kw})


def test_encoder_shapes():
    ops = torch.zeros(4, 7, 5)
    ops[..., 1] = 1
    adj = torch.zeros(4, 7, 7)
    mu, logvar = GINEncoder(5)(ops, adj)
    assert mu.shape == (4, 7, 16) and logvar.shape == (4, 7, 16)
    mu, logvar = GCNEncoder(5, hidden=(32, 32), variational=False)(ops, adj)
    assert mu.shape == (4, 7, 16) and logvar is None


def test_autoencoder_outputs_and_pad_class():
    cells = get("nb101").from_native(
        [{"matrix": [[0, 1, 1], [0, 0, 1], [0, 0, 0]], "ops": ["input", "maxpool3x3", "output"]}]
    )
    data = cell_tensors(cells, 5)
    assert data["op_target"][0].tolist() == [0, 3, 4, 5, 5, 5, 5]  # padding -> class 5
    assert data["adj_target"].shape == (1, 21)
    model = GraphAutoencoder(5, 7, pad_class=True)
    op_logits, adj_logits, mu, logvar = model(data["ops"], data["adj"])
    assert op_logits.shape == (1, 7, 6) and adj_logits.shape == (1, 21) and mu.shape == (1, 7, 16)
    # the cell embedding averages over the 3 real nodes only
    emb = pool_nodes(mu, data["ops"])
    assert torch.allclose(emb[0], mu[0, :3].mean(0))


def test_decode_drops_edges_of_missing_nodes():
    model = GraphAutoencoder(5, 7, pad_class=True)
    with torch.no_grad():
        model.op_head.weight.zero_()
        model.op_head.bias.copy_(torch.tensor([0.0, 0, 0, 0, 0, 1]))  # every node "no node"
    adj, ops = decode(model.eval(), torch.ones(2, 7, 16))
    assert (ops == PAD).all() and adj.sum() == 0


def test_metrics_on_hand_made_cells():
    space = get("nb201")
    pool = space.all()
    target = pool[[0, 1, 2, 3]]
    decoded_ops = target.ops.copy()
    decoded_ops[1, 3] = 5 if decoded_ops[1, 3] != 5 else 4  # one op wrong
    decoded_adj = target.adjacency.copy()
    decoded_adj[2, 0, 7] = 1  # one edge wrong
    rates = reconstruction_rates(Cells(decoded_adj, decoded_ops, "nb201"), target)
    assert rates["reconstruction_accuracy"] == 0.5
    assert rates["op_accuracy"] == 1 - 1 / 32
    assert rates["edge_accuracy"] == 1 - 1 / (4 * 28)

    decoded = Cells.concat([pool[[5, 5, 6]], Cells(decoded_adj[2:3], target.ops[2:3], "nb201")])
    validity, uniqueness = validity_uniqueness(space, decoded)
    assert validity == 0.75 and uniqueness == pytest.approx(2 / 3)
    assert validity_uniqueness(space, decoded[3:]) == (0.0, 0.0)


def test_loss_decreases_and_small_run_reconstructs(tmp_path):
    space = get("nb201")
    cells = space.all()[::25]  # 625 cells
    data = cell_tensors(cells, len(space.ops))
    torch.manual_seed(0)
    model = GraphAutoencoder(len(space.ops), 8, hidden=(64, 64), dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(600):
        idx = torch.randint(0, len(cells), (64,))
        out = model(data["ops"][idx], data["adj"][idx])
        loss, _ = model.loss(*out, data["op_target"][idx], data["adj_target"][idx], beta=0.005)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
    from arch2vec.models.metrics import reconstruction

    assert reconstruction(model, cells, len(space.ops))["reconstruction_accuracy"] == 1.0


@pytest.mark.slow
def test_pretrain_writes_run_and_resume_equals_uninterrupted(tmp_path):
    straight = tmp_path / "straight"
    pretrain(small_config(tmp_path), straight, progress=False)
    config = json.loads((straight / "config.json").read_text())
    assert config["config"]["space"] == "nb201" and "arch2vec" in config
    history = json.loads((straight / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2]

    # "killed" after epoch 1 (a constant lr: the cosine schedule follows the total, below)
    killed, constant = tmp_path / "killed", tmp_path / "constant"
    pretrain(small_config(tmp_path, schedule="constant"), constant, progress=False)
    pretrain(small_config(tmp_path, epochs=1, schedule="constant"), killed, progress=False)
    pretrain(small_config(tmp_path, schedule="constant"), killed, resume=True, progress=False)
    a = load_run(constant)[2].state_dict()
    b = load_run(killed)[2].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    # a cosine run cannot go on as a longer one: its learning rate reached 0 at its end
    short = tmp_path / "short"
    pretrain(small_config(tmp_path, epochs=1), short, progress=False)
    with pytest.raises(ValueError, match="a run of 1 epochs with the cosine schedule cannot go"):
        pretrain(small_config(tmp_path), short, resume=True, progress=False)


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume(tmp_path):
    run = tmp_path / "run"
    data = tmp_path / "data"
    argv = [
        sys.executable,
        "-m",
        "arch2vec.cli",
        "pretrain",
        "--space",
        "nb201",
        "--epochs",
        "2",
        "--batch-size",
        "128",
        "--threads",
        "1",
        "--out",
        str(run),
        "--data-dir",
        str(data),
        "--json",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (run / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # inside epoch 2 (of ~1.5 s)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first = json.loads((run / "metrics.json").read_text())["history"]
    assert len(first) == 1
    subprocess.run(argv + ["--resume"], check=True, capture_output=True)
    straight = tmp_path / "straight"
    pretrain(small_config(tmp_path, epochs=2, batch_size=128, threads=1), straight, progress=False)
    a = load_run(straight)[2].state_dict()
    b = load_run(run)[2].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_split_is_seeded_and_disjoint():
    tr, ho = split(1000, 0.1, 3)
    assert len(ho) == 100 and len(np.intersect1d(tr, ho)) == 0 and len(tr) + len(ho) == 1000
    assert (split(1000, 0.1, 3)[1] == ho).all() and not (split(1000, 0.1, 4)[1] == ho).all()


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_pretrain_evaluate_embed(tmp_path, capsys):
    run = tmp_path / "run"
    code, out, _ = run_cli(
        capsys,
        "pretrain",
        "--space",
        "nb201",
        "--epochs",
        "1",
        "--batch-size",
        "128",
        "--out",
        str(run),
        "--json",
    )
    assert code == 0 and json.loads(out)["epoch"] == 1
    code, out, _ = run_cli(capsys, "evaluate", str(run), "--samples", "500", "--json")
    result = json.loads(out)
    assert code == 0 and result["samples"] == 500
    for key in ("reconstruction_accuracy", "validity", "uniqueness", "op_accuracy"):
        assert 0.0 <= result[key] <= 1.0
    for key in ("validity", "uniqueness"):  # ours, under both names, and the paper's
        assert result[f"{key}_ours"] == result[key] and 0.0 <= result[f"{key}_paper"] <= 1.0
    assert result["validity_paper"] >= result["validity"]  # NB-201: theirs checks the ops only
    assert (run / "evaluation.json").is_file() and result["prior"] == "diagonal"
    # the full-covariance prior writes its own file; the paper's evaluation stays as it was
    before = (run / "evaluation.json").read_bytes()
    code, out, _ = run_cli(capsys, "evaluate", str(run), "--samples", "500", "--prior", "full")
    assert code == 0 and (run / "evaluation.json").read_bytes() == before
    assert json.loads((run / "evaluation-full.json").read_text())["prior"] == "full"
    code, _, _ = run_cli(capsys, "embed", str(run))
    with np.load(run / "embeddings.npz") as z:
        assert z["embeddings"].shape == (15_625, 16) and z["hash"].shape == (15_625,)
        assert np.isfinite(z["embeddings"]).all()
    # an existing --out is kept unless --overwrite, and the message names the flag
    taken = tmp_path / "taken.npz"
    taken.write_bytes(b"keep me")
    code, _, err = run_cli(capsys, "embed", str(run), "--out", str(taken))
    assert code == 2 and "already exists (--overwrite replaces it)" in err
    assert taken.read_bytes() == b"keep me"
    code, _, _ = run_cli(capsys, "embed", str(run), "--out", str(taken), "--overwrite")
    assert code == 0 and taken.read_bytes() != b"keep me"
    # the same run again without --resume is refused, and nothing is lost
    code, _, err = run_cli(
        capsys, "pretrain", "--space", "nb201", "--epochs", "1", "--out", str(run)
    )
    assert code == 2 and "resume it" in err and (run / "checkpoint.pt").is_file()
    # resuming with another configuration is refused
    code, _, err = run_cli(
        capsys,
        "pretrain",
        "--space",
        "nb201",
        "--epochs",
        "2",
        "--lr",
        "0.5",
        "--out",
        str(run),
        "--resume",
    )
    assert code == 2 and "lr" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", "/nonexistent/run"], "no such run directory"),
        (["embed", "/nonexistent/run"], "no such run directory"),
    ],
)
def test_cli_bad_run_dir(capsys, argv, message):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and message in err and err.count("\n") == 1


def test_cli_corrupt_checkpoint_and_wrong_space(tmp_path, capsys):
    run = tmp_path / "run"
    run_cli(
        capsys,
        "pretrain",
        "--space",
        "nb201",
        "--epochs",
        "1",
        "--batch-size",
        "256",
        "--out",
        str(run),
    )
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    code, _, err = run_cli(capsys, "evaluate", str(run))
    assert code == 2 and "unreadable checkpoint" in err
    code, _, err = run_cli(capsys, "pretrain", "--space", "nb999", "--out", str(tmp_path / "x"))
    assert code == 2 and "unknown space 'nb999'" in err and not (tmp_path / "x").exists()


@pytest.mark.slow
def test_estimator_in_memory_equals_a_run_directory(tmp_path):
    """``Arch2Vec(...).fit()`` trains exactly what ``fit(run_dir=...)`` and ``arch2vec pretrain``
    train; save / load round-trips; embed gives the pool's Embeddings."""
    from arch2vec import Arch2Vec

    memory = Arch2Vec("nb201", epochs=1, batch_size=256, seed=3).fit()
    on_disk = Arch2Vec("nb201", epochs=1, batch_size=256, seed=3).fit(run_dir=tmp_path / "run")
    for key, value in memory.model_.state_dict().items():
        assert torch.equal(value, on_disk.model_.state_dict()[key]), key
    assert memory.history_[0]["loss"] == on_disk.history_[0]["loss"]
    emb = memory.embed()
    assert (
        emb.shape == (15_625, 16) and emb.space == "nb201" and emb.native[0].startswith("|none~0|")
    )
    memory.save(tmp_path / "saved")
    loaded = Arch2Vec.load(tmp_path / "saved")
    np.testing.assert_array_equal(loaded.embed().vectors, emb.vectors)
    assert loaded.score(samples=200, seed=1) == memory.score(samples=200, seed=1)
    with pytest.raises(ValueError, match="already holds a run"):
        memory.save(tmp_path / "saved")
    with pytest.raises(ValueError, match="not fitted"):
        Arch2Vec("nb201").embed()


def test_pretrain_help_states_the_per_space_defaults(capsys):
    from arch2vec.models.train import SPACE_DEFAULTS

    with pytest.raises(SystemExit):
        main(["pretrain", "--help"])
    text = " ".join(capsys.readouterr().out.split())

    def stated(flag_text: str) -> dict[str, str]:  # "(default: 256 nb101/darts, 128 nb201)"
        part = text.split(flag_text)[-1].split("(default: ")[1].split(")")[0].split(";")[0]
        out = {}
        for item in part.split(","):
            value, names = item.split()
            out.update(dict.fromkeys(names.split("/"), value))
        return out

    def short(v: float) -> str:
        return f"{v:g}" if v >= 0.1 else f"{v:.0e}".replace("e-0", "e-")

    epochs = stated("--epochs EPOCHS")
    batch = stated("cells per step")
    lr = stated("Adam learning rate")
    for space, d in SPACE_DEFAULTS.items():
        assert epochs[space] == str(d["epochs"]), space
        assert batch[space] == str(d["batch_size"]), space
        assert lr[space] == short(d["lr"]), space


def test_bilinear_decoder_starts_as_the_inner_product_and_learns_a_pair_prior():
    """The bilinear decoder's metric starts at the identity and its biases at zero, so its first
    logits are the paper's; an edge never present in training ends with a negative bias."""
    torch.manual_seed(0)
    inner = GraphAutoencoder(5, 6, decoder="inner")
    torch.manual_seed(0)
    bilinear = GraphAutoencoder(5, 6, decoder="bilinear")
    z = torch.randn(3, 6, 16)
    for a, b in zip(inner.decode_logits(z), bilinear.decode_logits(z), strict=True):
        assert torch.equal(a, b)
    assert set(bilinear.state_dict()) - set(inner.state_dict()) == {
        "edge_metric",
        "edge_bias",
        "op_weight",
        "op_bias",
    }
    assert bilinear.edge_bias.shape == (15,) and bilinear.op_bias.shape == (6, 5)
    assert bilinear.op_weight.shape == (6, 5, 16)
    with pytest.raises(ValueError, match="unknown decoder 'outer'"):
        GraphAutoencoder(5, 6, decoder="outer")

    space = get("nb201")
    cells = space.all()[::25]
    data = cell_tensors(cells, len(space.ops))
    torch.manual_seed(0)
    model = GraphAutoencoder(len(space.ops), 8, hidden=(64, 64), decoder="bilinear")
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(300):
        idx = torch.randint(0, len(cells), (64,))
        out = model(data["ops"][idx], data["adj"][idx])
        loss, _ = model.loss(*out, data["op_target"][idx], data["adj_target"][idx], beta=0.005)
        opt.zero_grad()
        loss.backward()
        opt.step()
    rows, cols = np.triu_indices(8, k=1)
    never = ~cells.adjacency[:, rows, cols].any(0)  # NB-201's DAG is fixed: most pairs never
    always = cells.adjacency[:, rows, cols].all(0)
    assert never.any() and always.any()
    bias = model.edge_bias.detach().numpy()
    assert bias[never].max() < 0 < bias[always].min()
    from arch2vec.models.metrics import reconstruction

    assert reconstruction(model, cells, len(space.ops))["reconstruction_accuracy"] == 1.0


def test_decoder_defaults_per_space_and_saved_runs_read_as_inner(tmp_path):
    assert PretrainConfig(space="darts").decoder == "bilinear"
    assert PretrainConfig(space="nb201").decoder == "bilinear"
    assert PretrainConfig(space="nb201").schedule == "cosine"
    assert PretrainConfig(space="nb101").decoder == "inner"
    assert PretrainConfig(space="nb101").schedule == "constant"
    assert PretrainConfig(space="nb201", decoder="inner").decoder == "inner"
    assert PretrainConfig.from_dict({"space": "darts"}).decoder == "inner"  # an older run
    with pytest.raises(ValueError, match="decoder must be one of inner, bilinear, got 'x'"):
        PretrainConfig(space="nb201", decoder="x")
    # a finished run of another configuration is refused, not returned as this one's
    from arch2vec.models.run import ensure_pretrained

    run = tmp_path / "run"
    pretrain(small_config(tmp_path, epochs=2, batch_size=1024), run, progress=False)
    assert ensure_pretrained(small_config(tmp_path, epochs=2, batch_size=1024), run) == run
    with pytest.raises(ValueError, match="holds a run of 2 epochs, more than the 1 asked for"):
        ensure_pretrained(small_config(tmp_path, epochs=1, batch_size=1024), run)
    other = small_config(tmp_path, epochs=2, batch_size=1024, decoder="inner")
    with pytest.raises(
        ValueError, match=r"cannot resume, the run was made with other \['decoder'\]"
    ):
        ensure_pretrained(other, run)
    with pytest.raises(SystemExit) as exit_info:
        main(["pretrain", "--space", "nb201", "--decoder", "outer", "--out", str(run)])
    assert exit_info.value.code == 2


def test_gcn_layer_by_hand_with_and_without_the_self_weight():
    """``h <- ReLU(D^-1/2 (A + I) D^-1/2 h W + h U)``; ``self_weight=False`` drops ``h U``."""
    torch.manual_seed(0)
    ops = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])  # 3 nodes, 2 features
    adj = torch.tensor([[[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]])  # a path
    a = adj[0].numpy() + np.eye(3)
    d = 1 / np.sqrt(a.sum(1))
    norm = d[:, None] * a * d[None, :]
    for self_weight in (False, True):
        enc = GCNEncoder(2, hidden=(4,), latent=3, variational=False, self_weight=self_weight)
        layer = enc.layers[0]
        w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
        h = norm @ (ops[0].numpy() @ w.T + b)
        if self_weight:
            h = h + ops[0].numpy() @ enc.selfs[0].weight.detach().numpy().T
        h = np.maximum(h, 0)
        want = h @ enc.mu.weight.detach().numpy().T + enc.mu.bias.detach().numpy()
        mu, logvar = enc(ops, adj)
        assert logvar is None
        np.testing.assert_allclose(mu[0].detach().numpy(), want, rtol=1e-5, atol=1e-6)
        assert (enc.selfs is not None) == self_weight
    assert PretrainConfig(space="nb201", model="gae").self_weight is True
    assert PretrainConfig.from_dict({"space": "nb201", "model": "gae"}).self_weight is False
    with pytest.raises(ValueError, match="self_weight must be true or false, got 'yes'"):
        PretrainConfig(space="nb201", self_weight="yes")


def test_cosine_schedule_resumes_bit_identically_and_ends_near_zero(tmp_path):
    config = small_config(tmp_path, epochs=2, batch_size=1024, schedule="cosine")
    assert small_config(tmp_path).schedule == "cosine" == PretrainConfig("darts").schedule
    assert PretrainConfig("nb101").schedule == "constant"
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    pretrain(config, straight, progress=False)

    class Killed(Exception):
        pass

    def kill(record):
        raise Killed  # after epoch 1's checkpoint, as a kill would

    with pytest.raises(Killed):
        pretrain(config, killed, progress=False, on_epoch=kill)
    assert (
        load_run(killed)[2] is not None
        and len(json.loads((killed / "metrics.json").read_text())["history"]) == 1
    )
    pretrain(config, killed, resume=True, progress=False)
    a, b = load_run(straight)[2].state_dict(), load_run(killed)[2].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    state = torch.load(straight / "checkpoint.pt", weights_only=True)
    steps = 2 * -(-14_062 // 1024)  # 90 % of NB-201's cells, 14 steps an epoch
    last = config.lr * 0.5 * (1 + np.cos(np.pi * (steps - 1) / steps))
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(last)
    assert last < 0.01 * config.lr
    with pytest.raises(ValueError, match="schedule must be one of constant, cosine, got 'step'"):
        small_config(tmp_path, schedule="step")
