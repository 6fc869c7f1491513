"""Tests for the TensorFlow-free NAS-Bench-101 TFRecord reader."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from arch2vec.benchmarks import nb101_tfrecord as nb

ADJ = np.triu(np.ones((7, 7), dtype=np.int8), k=1)
OPS = ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3"] + ["conv3x3-bn-relu"] * 2
OPS = [*OPS, "output"]


def _metrics(final_val, final_test, final_time, params):
    evals = [
        {"current_epoch": 0.0, "training_time": 0.0, "validation_accuracy": 0.1},
        {"current_epoch": 54.0, "training_time": final_time / 2, "validation_accuracy": 0.5},
        {
            "current_epoch": 108.0,
            "training_time": final_time,
            "train_accuracy": 1.0,
            "validation_accuracy": final_val,
            "test_accuracy": final_test,
            "checkpoint_path": "gs://x/model.ckpt-1",
        },
    ]
    return {"evaluation_data": evals, "trainable_parameters": params, "total_time": 99.5}


def _write_bench(path):
    records = []
    for h, (val, test, secs, params) in {
        "a" * 32: ((0.90, 0.91, 0.92), (0.80, 0.81, 0.82), (100.0, 110.0, 120.0), 1234567),
        "b" * 32: ((0.70, 0.71, 0.72), (0.60, 0.61, 0.62), (10.0, 20.0, 30.0), 42),
    }.items():
        for r in range(3):
            m = _metrics(val[r], test[r], secs[r], params)
            records.append(nb.encode_nb101_record(h, 108, ADJ, OPS, m))
    records.append(nb.encode_nb101_record("c" * 32, 36, ADJ, OPS, _metrics(0.5, 0.5, 1.0, 7)))
    nb.write_records(path, records)
    return records


def test_crc32c_vectors():
    assert nb.crc32c(b"123456789") == 0xE3069283
    assert nb.crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4
    assert nb.crc32c(bytes(range(32))) == 0x46DD794E
    chunks = [b"", b"1", b"123456789", bytes(range(32)), b"\xff" * 7]
    assert nb.crc32c_many(chunks).tolist() == [nb.crc32c(c) for c in chunks]
    crc = nb.crc32c(b"abc")
    rot = ((crc >> 15) | (crc << 17)) & 0xFFFFFFFF
    assert nb.masked_crc32c(b"abc") == (rot + 0xA282EAD8) & 0xFFFFFFFF


def test_model_metrics_round_trip_and_final_entry():
    m = _metrics(0.93, 0.92, 1500.25, 2_694_282)
    raw = nb.encode_model_metrics(m)
    out = nb.decode_model_metrics(raw)
    assert out["trainable_parameters"] == 2_694_282 and out["total_time"] == 99.5
    assert len(out["evaluation_data"]) == 3
    assert out["evaluation_data"][2]["checkpoint_path"] == "gs://x/model.ckpt-1"
    assert out["evaluation_data"][0]["test_accuracy"] == 0.0  # proto default
    assert nb._final_metrics(raw) == (1500.25, 0.93, 0.92, 2_694_282)
    # unknown fields (varint, fixed32, bytes) are skipped; negative int32 decodes
    extra = b"\x38\x05" + b"\x45" + struct.pack("<f", 1.0) + b"\x4a\x02hi"
    neg = nb.encode_model_metrics({"trainable_parameters": -3})
    assert nb.decode_model_metrics(extra + neg)["trainable_parameters"] == -3
    with pytest.raises(ValueError):
        nb.decode_model_metrics(raw[:-3])


def test_record_layout_and_read(tmp_path):
    path = tmp_path / "nb.tfrecord"
    records = _write_bench(path)
    assert list(nb.iter_records(path, verify=True)) == records
    rec = nb.parse_nb101_record(records[0])
    assert rec["adjacency"].shape == (7, 7) and (rec["adjacency"] == ADJ).all()
    assert rec["ops"] == OPS and rec["epochs"] == 108
    # framing: <Q length, masked CRC of length, data, masked CRC of data
    blob = path.read_bytes()
    (n,) = struct.unpack_from("<Q", blob)
    assert struct.unpack_from("<I", blob, 8)[0] == nb.masked_crc32c(blob[:8])
    assert struct.unpack_from("<I", blob, 12 + n)[0] == nb.masked_crc32c(records[0])

    out = nb.read_nb101(path)
    assert out["hash"].dtype == np.dtype("<U32")
    assert out["hash"].tolist() == ["a" * 32, "b" * 32]
    np.testing.assert_allclose(out["valid_accuracy"], [0.91, 0.71])
    np.testing.assert_allclose(out["test_accuracy"], [0.81, 0.61])
    np.testing.assert_allclose(out["train_seconds"], [110.0, 20.0])
    assert out["repeats"].tolist() == [3, 3] and out["params"].tolist() == [1234567, 42]
    other = nb.read_nb101(path, epochs=36, verify=True)
    assert other["hash"].tolist() == ["c" * 32] and other["repeats"].tolist() == [1]
    with pytest.raises(ValueError, match=r"no records with epochs=4 \(found epochs: \[36, 108\]\)"):
        nb.read_nb101(path, epochs=4)


def _one_line_error(path, match, **kw):
    with pytest.raises(ValueError, match=match) as info:
        nb.read_nb101(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    return msg


def test_corruption_errors(tmp_path):
    path = tmp_path / "nb.tfrecord"
    records = _write_bench(path)
    blob = path.read_bytes()
    second = 16 + len(records[0])  # byte offset of record 1

    path.write_bytes(blob[:-5])
    _one_line_error(path, r"record 6 at byte offset \d+: truncated record")
    path.write_bytes(blob[: second + 5])
    _one_line_error(path, rf"record 1 at byte offset {second}: truncated header")

    bad = bytearray(blob)
    bad[second + 8] ^= 0xFF  # length CRC of record 1
    path.write_bytes(bytes(bad))
    _one_line_error(path, rf"record 1 at byte offset {second}: length CRC mismatch")

    bad = bytearray(blob)
    bad[second + 12 + 3] ^= 0x01  # a data byte of record 1 (inside the hash string)
    path.write_bytes(bytes(bad))
    assert len(nb.read_nb101(path)["hash"]) == 3  # unnoticed without verify
    _one_line_error(path, rf"record 1 at byte offset {second}: data CRC mismatch", verify=True)

    path.write_bytes(b"not a tfrecord file at all")
    _one_line_error(path, r"record 0 at byte offset 0: length CRC mismatch \(not a TFRecord")

    nb.write_records(path, [records[0], b"[1, 2", records[1]])
    _one_line_error(path, rf"record 1 at byte offset {second}: malformed JSON")
    bad_metrics = nb.encode_nb101_record("d" * 32, 108, ADJ, OPS, b"\x0a\x05\x11")
    nb.write_records(path, [bad_metrics])
    _one_line_error(path, r"record 0 at byte offset 0: malformed metrics")

    with pytest.raises(FileNotFoundError, match="not found"):
        nb.read_nb101(tmp_path / "missing.tfrecord")
