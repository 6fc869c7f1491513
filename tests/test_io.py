import numpy as np
import pytest

from arch2vec import io


def test_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv(io.ENV_DATA_DIR, str(tmp_path / "env"))
    assert io.data_dir() == tmp_path / "env"
    assert io.data_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv(io.ENV_DATA_DIR)
    assert io.data_dir().name == "arch2vec"


def test_atomic_open_keeps_old_content_on_error(tmp_path):
    path = tmp_path / "f.txt"
    io.atomic_write_text(path, "old")
    with pytest.raises(RuntimeError), io.atomic_open(path) as f:
        f.write("half")
        raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temporary left behind


def test_arrays_round_trip_and_checks(tmp_path):
    path = tmp_path / "a.npz"
    io.save_arrays(path, {"format": 1}, x=np.arange(10), y=np.eye(3))
    meta, arrays = io.load_arrays(path, {"format": 1})
    assert meta["format"] == 1 and arrays["x"].tolist() == list(range(10))
    with pytest.raises(io.CacheError, match="format is 1, expected 2"):
        io.load_arrays(path, {"format": 2})
    path.write_bytes(path.read_bytes()[:100])  # truncated
    with pytest.raises(io.CacheError, match=str(path)):
        io.load_arrays(path)


def test_corrupt_byte_fails_checksum(tmp_path):
    path = tmp_path / "a.npz"
    io.save_arrays(path, {}, x=np.zeros(1000, dtype=np.uint8))
    raw = bytearray(path.read_bytes())
    at = raw.index(bytes(100)) + 50  # a byte inside the stored array
    raw[at] = 7
    path.write_bytes(bytes(raw))
    with pytest.raises(io.CacheError):
        io.load_arrays(path)


def test_cached_arrays_rebuilds_corrupt_cache(tmp_path):
    path = tmp_path / "c.npz"
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(5)}

    assert io.cached_arrays(path, {"v": 1}, build)["x"].tolist() == [0, 1, 2, 3, 4]
    assert io.cached_arrays(path, {"v": 1}, build)["x"].tolist() == [0, 1, 2, 3, 4]
    assert len(calls) == 1
    path.write_bytes(b"garbage")
    logged = []
    io.cached_arrays(path, {"v": 1}, build, log=logged.append)
    assert len(calls) == 2 and "rebuilding cache" in logged[0]
