"""media/service/derived.py in this process, on local storage: a set is made once and the
per-artifact locks do not outlive their makers (one per tile would otherwise pile up)."""

import gc

import pytest

from assay.config import reset_settings
from assay.media.service import derived


@pytest.fixture()
def media(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ASSAY_STORAGE_URL", raising=False)
    reset_settings()
    yield derived.Media("org1", "file1")
    monkeypatch.undo()
    reset_settings()


def test_files_are_made_once_and_their_locks_released(media):
    made = []

    def make(path):
        made.append(path.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"jpeg")

    for _ in range(3):
        for n in range(100):
            assert media.ensure_file(f"tiles/{n}_0.jpg", make) == f"tiles/{n}_0.jpg"
    gc.collect()
    assert made == [f"{n}_0.jpg" for n in range(100)]
    assert media.path("tiles/7_0.jpg").read_bytes() == b"jpeg"
    assert not [k for k in derived._locks if k.startswith("media/org1/file1/")]


def test_an_index_is_made_once_and_read_back(media):
    calls = []

    def make():
        calls.append(1)
        return {"frames": 3}

    assert media.ensure("frames/index.json", make, lambda doc: []) == {"frames": 3}
    assert media.ensure("frames/index.json", make, lambda doc: []) == {"frames": 3}
    assert calls == [1]
    assert media.read_json("frames/index.json") == {"frames": 3}
