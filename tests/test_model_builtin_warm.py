"""The built-in backend's retrain starts from the version before (in memory or read back from
its file), and a missing or unreadable previous file only means a cold start."""

from __future__ import annotations

import pytest

from assay.backends import builtin
from assay.config import reset_settings
from assay.learning.textmodel import TextClassifier

POS = ["a great and moving film", "wonderful acting, great story", "loved every minute", "great fun", "a joy to watch"]
NEG = ["a dull, boring mess", "awful script and bad acting", "boring and far too long", "bad, dull film", "a waste of time"]


def _examples(n_each: int):
    texts = (POS * 4)[:n_each] + (NEG * 4)[:n_each]
    labels = ["pos"] * n_each + ["neg"] * n_each
    return [({"attachment_type": "text", "attachment": t, "categories": ["pos", "neg"]}, {"category": c}) for t, c in zip(texts, labels)]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path / "data"))
    reset_settings()
    builtin._LOADED.clear()
    yield tmp_path / "data"
    builtin._LOADED.clear()
    reset_settings()


def test_retrain_warm_starts_from_the_previous_version_file(data_dir, monkeypatch):
    builtin.train(7, "categorization", "tfidf", _examples(5), version=1)
    first = builtin._LOADED[(7, 1)]
    builtin._LOADED.clear()  # as in another process: only the file is left
    previous = builtin._previous(7, 2)
    assert isinstance(previous, TextClassifier) and previous.classes == ["neg", "pos"]
    starts = []
    fit = TextClassifier.fit

    def recording_fit(self, texts, labels, warm_from=None):
        starts.append(warm_from)
        return fit(self, texts, labels, warm_from=warm_from)

    monkeypatch.setattr(TextClassifier, "fit", recording_fit)
    builtin.train(7, "categorization", "tfidf", _examples(6), version=2)
    (start,) = starts
    assert start is not None and start is not first  # read back from v1's file
    assert list(start._vectorizer.feature_names()) == list(first._vectorizer.feature_names())
    assert builtin._LOADED[(7, 2)].predict(["great story", "boring mess"]) == ["pos", "neg"]
    second = builtin._LOADED[(7, 2)]
    builtin.train(7, "categorization", "tfidf", _examples(6), version=3)
    assert starts[-1] is second  # the version held in memory starts the next one
    # only the newest version stays in memory (older ones are files)
    assert [k for k in builtin._LOADED if k[0] == 7] == [(7, 3)]


def test_unreadable_or_missing_previous_version_means_a_cold_start(data_dir):
    assert builtin._previous(8, 1) is None and builtin._previous(8, 3) is None
    path = builtin._path(8, 1)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a pickle")
    assert builtin._previous(8, 2) is None
    facts = builtin.train(8, "categorization", "tfidf", _examples(5), version=2)
    assert facts == {"examples": 10, "classes": 2}
