"""Validity and uniqueness of decoded samples by the paper's definitions and by ours (Table 1)."""

import hashlib
import json

import numpy as np
import pytest

from arch2vec.analysis.reproduce import TABLE1_NOTE, table1_markdown
from arch2vec.cli import main
from arch2vec.models.metrics import (
    paper_valid,
    uniform_uniqueness,
    validity_and_uniqueness,
    validity_uniqueness,
)
from arch2vec.spaces.cells import PAD, Cells
from arch2vec.spaces.darts import DartsSpace, genotypes_to_cells, parse_genotype
from arch2vec.spaces.nb101 import NB101Space
from arch2vec.spaces.nb201 import OPS as NB201_OPS
from arch2vec.spaces.nb201 import NB201Space

KEYS = (
    "validity",
    "uniqueness",
    "validity_ours",
    "uniqueness_ours",
    "validity_paper",
    "uniqueness_paper",
    "uniqueness_exact",
    "uniqueness_ceiling",
    "in_space_paper",
)


def hash_module(matrix: np.ndarray, labeling: list) -> str:
    """NAS-Bench-101's ``graph_util.hash_module``, written out plainly (the reference)."""
    n = len(labeling)
    hashes = [
        hashlib.md5(str((int(o), int(i), lab)).encode()).hexdigest()
        for o, i, lab in zip(matrix.sum(1), matrix.sum(0), labeling, strict=True)
    ]
    for _ in range(n):
        hashes = [
            hashlib.md5(
                (
                    "".join(sorted(hashes[w] for w in range(n) if matrix[w, v]))
                    + "|"
                    + "".join(sorted(hashes[w] for w in range(n) if matrix[v, w]))
                    + "|"
                    + hashes[v]
                ).encode()
            ).hexdigest()
            for v in range(n)
        ]
    return hashlib.md5(str(sorted(hashes)).encode()).hexdigest()


def authors_uniqueness(cells: Cells, valid: np.ndarray, num_classes: int) -> float:
    """Uniqueness as the authors' scripts count it: ``hash_module`` of each valid decoded graph
    with its one-hot op rows as labels, distinct fingerprints over valid samples."""
    buckets = set()
    for adj, ops in zip(cells.adjacency[valid], cells.ops[valid], strict=True):
        one_hot = np.eye(num_classes + 1)[ops].tolist()  # PAD (-1) -> the extra last class
        buckets.add(hash_module(adj, one_hot))
    return len(buckets) / int(valid.sum())


# ------------------------------------------------------------------------------ NAS-Bench-201


def nb201_samples() -> tuple[NB201Space, Cells]:
    """Five decoded NB-201 samples: 0 and 1 the same valid cell, 2 legal ops on a wrong
    adjacency, 3 and 4 an illegal op (an input op on node 3; a conv where the output belongs)."""
    space = NB201Space()
    pool = space.all()
    adj = pool.adjacency[[7, 7, 8, 9, 10]].copy()
    ops = pool.ops[[7, 7, 8, 9, 10]].copy()
    adj[2, 0, 7] = 1  # an input -> output edge: not NB-201's wiring
    ops[3, 3] = NB201_OPS.index("input")
    ops[4, 7] = NB201_OPS.index("conv3x3")
    return space, Cells(adj, ops, "nb201")


def test_nb201_both_definitions_by_hand():
    space, decoded = nb201_samples()
    assert paper_valid(space, decoded).tolist() == [True, True, True, False, False]
    assert space.is_valid(decoded).tolist() == [True, True, False, False, False]
    result = validity_and_uniqueness(space, decoded)
    assert set(result) == set(KEYS)
    assert result["validity_paper"] == 3 / 5
    assert result["uniqueness_paper"] == 2 / 3  # samples 0 and 1 are one graph
    assert result["uniqueness_exact"] == 2 / 3
    assert result["validity_ours"] == result["validity"] == 2 / 5
    assert result["uniqueness_ours"] == result["uniqueness"] == 1 / 2
    assert (result["validity"], result["uniqueness"]) == validity_uniqueness(space, decoded)
    assert result["in_space_paper"] == 2 / 3  # sample 2 passes the paper's check, not the space
    assert result["uniqueness_ceiling"] == pytest.approx((1 - (1 - 1 / 15_625) ** 2) / 2 * 15_625)
    valid = paper_valid(space, decoded)
    assert result["uniqueness_paper"] == authors_uniqueness(decoded, valid, len(space.ops))


def test_uniform_uniqueness_by_hand_and_as_the_most_a_sampler_can_expect():
    assert uniform_uniqueness(2, 2) == pytest.approx(0.75)  # 2 of 4 draws repeat a cell
    assert uniform_uniqueness(3, 2) == pytest.approx(5 / 6)
    assert uniform_uniqueness(10, 1) == 1.0 and uniform_uniqueness(10, 0) == 1.0
    assert uniform_uniqueness(15_625, 7_941) == pytest.approx(0.784, abs=5e-4)
    rng = np.random.default_rng(0)
    draws = rng.integers(0, 500, size=(2000, 300))
    distinct = np.mean([len(np.unique(row)) for row in draws]) / 300
    assert distinct == pytest.approx(uniform_uniqueness(500, 300), abs=3e-3)
    skewed = rng.choice(500, size=(2000, 300), p=np.r_[np.full(250, 3), np.ones(250)] / 1000)
    assert np.mean([len(np.unique(row)) for row in skewed]) / 300 < distinct - 0.02


def test_nb201_paper_check_skips_node_1_and_ignores_the_adjacency():
    space, decoded = nb201_samples()
    ops = decoded.ops[:1].copy()
    ops[0, 1] = NB201_OPS.index("output")  # node 1 is not checked by the authors
    empty = np.zeros_like(decoded.adjacency[:1])  # no edges at all
    odd = Cells(np.concatenate([decoded.adjacency[:1], empty]), np.repeat(ops, 2, axis=0))
    assert paper_valid(space, odd).tolist() == [True, True]
    assert not space.is_valid(odd).any()
    ops[0, 2] = NB201_OPS.index("output")  # node 2 is
    assert paper_valid(space, Cells(decoded.adjacency[:1], ops)).tolist() == [False]


# ------------------------------------------------------------------------------ NAS-Bench-101

IN, C1, C3, MP, OUT = range(5)  # input, conv1x1, conv3x3, maxpool, output


def nb101_samples() -> Cells:
    """Three decoded 7-node samples that all prune to input -> conv3x3 -> output: the chain
    0 -> 1 -> 6 plus four unconnected nodes. Samples 0 and 1 differ only in the order of two
    unconnected nodes (the same graph); sample 2 has other ops on them (another graph)."""
    adj = np.zeros((3, 7, 7), dtype=np.uint8)
    adj[:, 0, 1] = adj[:, 1, 6] = 1
    ops = np.array(
        [
            [IN, C3, C1, MP, C1, C1, OUT],
            [IN, C3, MP, C1, C1, C1, OUT],
            [IN, C3, MP, MP, C1, C1, OUT],
        ],
        dtype=np.int8,
    )
    return Cells(adj, ops, "nb101")


def test_nb101_graphs_that_prune_to_one_cell():
    space = NB101Space()
    decoded = nb101_samples()
    assert space.is_valid(decoded).all() and paper_valid(space, decoded).all()
    assert len(set(space.hash(decoded).tolist())) == 1
    two = validity_and_uniqueness(space, decoded[[0, 2]])  # two different decoded graphs
    assert two["uniqueness_paper"] == 1.0 and two["uniqueness_ours"] == 1 / 2
    three = validity_and_uniqueness(space, decoded)
    assert three["validity_paper"] == three["validity_ours"] == 1.0
    assert three["uniqueness_paper"] == 2 / 3  # samples 0 and 1: one graph, nodes reordered
    assert three["uniqueness_exact"] == 1.0  # ... but different arrays
    assert three["uniqueness_ours"] == 1 / 3
    assert three["uniqueness_paper"] == authors_uniqueness(decoded, np.ones(3, bool), 5)


def test_nb101_padding_and_invalid_samples():
    space = NB101Space()
    decoded = nb101_samples()
    ops = decoded.ops.copy()
    ops[0, 2:] = [OUT, PAD, PAD, PAD, PAD]  # a padded 3-node cell, its output at node 2
    adj = decoded.adjacency.copy()
    adj[0] = 0
    adj[0, 0, 1] = adj[0, 1, 2] = 1
    adj[2, 1, 6] = 0  # the output is cut off: invalid by both definitions
    result = validity_and_uniqueness(space, Cells(adj, ops, "nb101"))
    assert result["validity_paper"] == result["validity_ours"] == 2 / 3
    assert result["uniqueness_paper"] == result["uniqueness_exact"] == 1.0
    assert result["uniqueness_ours"] == 1 / 2  # both prune to input -> conv3x3 -> output


def test_no_samples_or_no_valid_sample():
    space = NB101Space()
    empty = validity_and_uniqueness(space, nb101_samples()[:0])
    assert empty.pop("uniqueness_ceiling") == 1.0 and set(empty.values()) == {0.0}
    broken = nb101_samples()
    adj = broken.adjacency.copy()
    adj[:, 1, 6] = 0
    none_valid = validity_and_uniqueness(space, Cells(adj, broken.ops))
    assert none_valid.pop("uniqueness_ceiling") == 1.0 and set(none_valid.values()) == {0.0}


# ------------------------------------------------------------------------------------- DARTS


def test_darts_paper_validity_is_ours_and_uniqueness_counts_graphs(tmp_path):
    space = DartsSpace(data_dir=tmp_path)  # no pool is built
    g = parse_genotype(
        "[('sep_conv_3x3', 0), ('sep_conv_5x5', 1), ('skip_connect', 0), ('dil_conv_3x3', 2), "
        "('max_pool_3x3', 1), ('avg_pool_3x3', 3), ('sep_conv_3x3', 0), ('dil_conv_5x5', 4)]"
    )[None]
    swapped = g.copy()
    swapped[0, 3] = g[0, 3, ::-1]  # the last node's two pairs in the other order: the same cell
    other = g.copy()
    other[0, 0, 0, 1] = 6  # another op on the first op node
    cells = genotypes_to_cells(np.concatenate([g, swapped, other]))
    ops = cells.ops.copy()
    ops[2, 4] = 1  # a c_{k-1} type on an op node: invalid
    decoded = Cells.concat([cells, Cells(cells.adjacency[2:], ops[2:], "darts")])
    result = validity_and_uniqueness(space, decoded)
    assert result["validity_paper"] == result["validity_ours"] == 3 / 4
    assert result["uniqueness_ours"] == 2 / 3  # samples 0 and 1: one genotype
    assert result["uniqueness_paper"] == 2 / 3  # ... and isomorphic decoded graphs
    assert result["uniqueness_exact"] == 1.0


# ------------------------------------------------------------------------ what users see


def test_table1_markdown_shows_both_and_says_which_compares():
    rows = [
        {
            "model": "arch2vec",
            "space": "nb201",
            "reconstruction_accuracy": 1.0,
            "validity": 0.6387,
            "uniqueness": 0.7966,
            "validity_ours": 0.6387,
            "uniqueness_ours": 0.7966,
            "validity_paper": 0.8,
            "uniqueness_paper": 0.95,
        },
        {  # a row written before both definitions were reported
            "model": "gae",
            "space": "nb101",
            "reconstruction_accuracy": 0.5,
            "validity": 0.25,
            "uniqueness": 0.5,
        },
    ]
    text = table1_markdown(rows)
    lines = text.strip().splitlines()
    assert lines[0] == (
        "| method | space | seeds | reconstruction % (paper) | validity %, paper's def. (paper) | "
        "uniqueness %, paper's def. (paper) | validity %, our def. | uniqueness %, our def. |"
    )
    assert lines[2] == (
        "| arch2vec | NAS-Bench-201 | 1 | 100.00 (100.00) | 80.00 (79.41) | 95.00 (98.72) | "
        "63.87 | 79.66 |"
    )
    assert lines[3] == (
        "| GAE | NAS-Bench-101 | 1 | 50.00 (98.75) | n/a (29.88) | n/a (99.25) | 25.00 | 50.00 |"
    )
    assert lines[-1] == TABLE1_NOTE and "Compare with the paper" in TABLE1_NOTE


RESULT = {
    "space": "nb201",
    "model": "arch2vec",
    "reconstruction_accuracy": 0.999,
    "op_accuracy": 1.0,
    "edge_accuracy": 1.0,
    "validity": 0.6,
    "uniqueness": 0.75,
    "validity_ours": 0.6,
    "uniqueness_ours": 0.75,
    "validity_paper": 0.8,
    "uniqueness_paper": 0.9,
    "uniqueness_exact": 0.9,
    "samples": 10,
    "heldout_cells": 5,
    "seed": 0,
    "seconds": 0.1,
}


@pytest.mark.parametrize("as_json", [False, True])
def test_evaluate_reports_both(tmp_path, capsys, monkeypatch, as_json):
    monkeypatch.setattr("arch2vec.models.run.evaluate_run", lambda *a, **k: dict(RESULT))
    code = main(["evaluate", str(tmp_path), *(["--json"] if as_json else [])])
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads((tmp_path / "evaluation.json").read_text()) == RESULT
    if as_json:
        assert json.loads(out) == RESULT
        return
    lines = {line.split("  ")[0]: line for line in out.splitlines()}
    assert "80.00 %" in lines["validity (paper's def.)"]
    assert "compare with the paper" in lines["uniqueness (paper's def.)"]
    assert "60.00 %" in lines["validity (ours)"] and "75.00 %" in lines["uniqueness (ours)"]


def test_prior_samples_keep_the_correlation_only_with_the_full_covariance(monkeypatch):
    """Training latents where node 1's first dimension copies node 0's: both priors match each
    value's mean and std; only the full covariance keeps the copy (correlation 1, not 0)."""
    import torch

    from arch2vec.models import metrics

    g = torch.Generator().manual_seed(0)
    mu = torch.randn((4000, 3, 2), generator=g) * torch.tensor([1.0, 2.0]) + 5.0
    mu[:, 1, 0] = mu[:, 0, 0]
    monkeypatch.setattr(metrics, "encode", lambda model, data: (mu, None))
    for prior, corr in (("diagonal", 0.0), ("full", 1.0)):
        z = metrics.prior_samples(None, {}, 20_000, seed=3, num_nodes=3, prior=prior)
        assert z.shape == (20_000, 3, 2) and z.dtype == torch.float32
        assert torch.allclose(z.mean(0), mu.mean(0), atol=0.06)
        assert torch.allclose(z.std(0), mu.std(0), rtol=0.03)
        c = np.corrcoef(z[:, 0, 0].numpy(), z[:, 1, 0].numpy())[0, 1]
        assert abs(c - corr) < 0.03, (prior, c)
        again = metrics.prior_samples(None, {}, 20_000, seed=3, num_nodes=3, prior=prior)
        assert torch.equal(z, again)  # the same seed, the same samples
    with pytest.raises(ValueError, match="prior must be one of diagonal, full, got 'gaussian'"):
        metrics.prior_samples(None, {}, 10, seed=0, num_nodes=3, prior="gaussian")
