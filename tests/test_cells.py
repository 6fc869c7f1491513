import numpy as np
import pytest

from arch2vec.spaces.cells import PAD, Cells, edit_distance

ADJ = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]], dtype=np.uint8)


def test_single_cell_becomes_batch_of_one():
    c = Cells(ADJ, [0, 1, 2])
    assert c.adjacency.shape == (1, 3, 3) and c.ops.shape == (1, 3) and len(c) == 1
    assert c.adjacency.dtype == np.uint8 and c.ops.dtype == np.int8


@pytest.mark.parametrize(
    "adj, ops, message",
    [
        (np.zeros((3, 4)), [0, 1, 2], "square"),
        (ADJ * 2, [0, 1, 2], "0 or 1"),
        (ADJ.T, [0, 1, 2], "not strictly upper-triangular"),
        (ADJ + np.eye(3, dtype=np.uint8), [0, 1, 2], "not strictly upper-triangular"),
        (ADJ, [0, 1], "ops: expected shape"),
        (ADJ, [0.5, 1, 2], "integer"),
    ],
)
def test_bad_input_is_a_one_line_error(adj, ops, message):
    with pytest.raises(ValueError, match=message) as err:
        Cells(adj, ops)
    assert "\n" not in str(err.value)


def test_onehot_and_padding_rows():
    c = Cells(np.stack([ADJ, ADJ]), [[0, 2, 1], [0, 1, PAD]])
    oh = c.onehot(3)
    assert oh.shape == (2, 3, 3) and oh.dtype == np.float32
    assert oh[0].tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert oh[1, 2].sum() == 0  # padding node: zero row
    assert c.node_mask().tolist() == [[True, True, True], [True, True, False]]


def test_symmetric_is_a_plus_a_transpose():
    s = Cells(ADJ, [0, 1, 2]).symmetric()[0]
    assert (s == s.T).all() and s.sum() == 2 * ADJ.sum() and s.dtype == np.float32


def test_edit_distance_counts_edges_and_ops():
    a = Cells(ADJ, [0, 1, 2])
    other = ADJ.copy()
    other[0, 2] = 0
    b = Cells(np.stack([ADJ, other, other]), [[0, 1, 2], [0, 1, 2], [0, 2, 2]])
    assert edit_distance(a, b).tolist() == [0, 1, 2]
    assert edit_distance(b, a).tolist() == [0, 1, 2]


def test_edit_distance_rejects_other_space_sizes():
    with pytest.raises(ValueError, match="one space"):
        edit_distance(Cells(ADJ, [0, 1, 2]), Cells(np.zeros((2, 2)), [0, 1]))


def test_indexing_and_concat():
    c = Cells(np.stack([ADJ] * 4), np.arange(12).reshape(4, 3) % 3, "x")
    assert len(c[1]) == 1 and len(c[-1]) == 1 and len(c[1:3]) == 2 and len(c[[0, 3]]) == 2
    assert (c[-1].ops == c.ops[3:]).all()
    both = Cells.concat([c[:1], c[2:]])
    assert len(both) == 3 and both.space == "x"
    with pytest.raises(ValueError, match="different spaces"):
        Cells.concat([c, Cells(ADJ, [0, 1, 2], "y")])
