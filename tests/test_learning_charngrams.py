"""The character n-gram TF-IDF (assay.learning.charngrams) against scikit-learn's
``TfidfVectorizer(analyzer="char_wb")`` it replaces: the same n-grams, columns, matrix and errors
on real texts of the shared data sets and on random unicode; and a text model pickled with
scikit-learn's vectorizer still loads, predicts and warm-starts a new one."""

from __future__ import annotations

import csv
import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from assay.learning.charngrams import CharNgramTfidf, word_ngrams
from assay.learning.textmodel import TextClassifier

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if not SHARED.exists():
    SHARED = Path("/work/shared/datasets")

# What real texts hold beyond letters: case folding that changes length (İ), accents, CJK,
# emoji, digits, punctuation, one-character words, runs of mixed whitespace, empty texts.
ODD_TEXTS = ["", "   ", "a", "I a b c", "İstanbul STRASSE Straße naïve ÉCOLE", "東京 東京都 😀😀 x😀",
             "call 0800-123-456 now!!! (50% off) $$$", "tab\tnew\nline\r\nform\x0cfeed\u00a0nbsp\u2028sep  end",
             "ab ab ab abab", "...", "a a a a a"]


def _shared_texts(name: str, n: int) -> list[str]:
    with open(SHARED / "text" / name / "items.csv", newline="", encoding="utf-8") as f:
        return [row["text"] for _, row in zip(range(n), csv.DictReader(f))]


def _sklearn(ngram_range=(2, 5), min_df=2, max_features=None) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, min_df=min_df, max_features=max_features,
                           sublinear_tf=True, lowercase=True)


def _assert_same(ours: CharNgramTfidf, x_ours, theirs: TfidfVectorizer, x_theirs):
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    assert ours.vocabulary_ == {term: int(i) for term, i in theirs.vocabulary_.items()}
    assert isinstance(x_ours, sparse.csr_matrix) and x_ours.dtype == np.float64 and x_ours.shape == x_theirs.shape
    assert x_ours.has_canonical_format  # sorted columns in each row, no duplicates, as the flag claims
    copy = x_ours.copy()
    copy.has_sorted_indices = False
    copy.sort_indices()
    assert np.array_equal(copy.indices, x_ours.indices)
    np.testing.assert_allclose(x_ours.toarray(), x_theirs.toarray(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["trec", "sms_spam"])
@pytest.mark.parametrize(("min_df", "max_features"), [(2, 300_000), (1, None), (3, 400), (2, 25)])
def test_same_matrix_as_scikit_learn_on_real_texts(name, min_df, max_features):
    texts = _shared_texts(name, 700)
    train, unseen = texts[:400] + ODD_TEXTS, texts[400:] + ODD_TEXTS[::-1]
    ours, theirs = CharNgramTfidf(min_df=min_df, max_features=max_features), _sklearn(min_df=min_df, max_features=max_features)
    _assert_same(ours, ours.fit_transform(train), theirs, theirs.fit_transform(train))
    if max_features is not None and max_features < 1000:
        assert len(ours.vocabulary_) == max_features  # the cut bound, ties and all
    _assert_same(ours, ours.transform(unseen), theirs, theirs.transform(unseen))


def test_word_ngrams_are_scikit_learns_including_short_words():
    analyzer = _sklearn().build_analyzer()
    for word in ["a", "ab", "abc", "abcd", "ababab", "東", "😀x"]:
        assert Counter(word_ngrams(word, 2, 5)) == Counter(analyzer(word))
    assert word_ngrams("a", 2, 5) == [" a", "a ", " a "]  # the padded word once, not again for n = 4 and 5
    assert word_ngrams("a", 4, 6) == [" a "]  # shorter than the smallest n: still once


WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000"
TEXT = st.text(alphabet=st.sampled_from("abAB1é É_-.,İß東😀" + WHITESPACE), max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.lists(TEXT, max_size=12), st.lists(TEXT, min_size=1, max_size=4), st.integers(1, 3), st.one_of(st.none(), st.integers(1, 40)),
       st.sampled_from([(2, 5), (1, 3), (3, 3), (4, 6)]))
def test_same_as_scikit_learn_on_random_unicode(texts, unseen, min_df, max_features, ngram_range):
    ours = CharNgramTfidf(ngram_range=ngram_range, min_df=min_df, max_features=max_features)
    theirs = _sklearn(ngram_range=ngram_range, min_df=min_df, max_features=max_features)
    try:
        x_theirs = theirs.fit_transform(texts)
    except ValueError:  # no word at all, or none of its n-grams in min_df texts
        with pytest.raises(ValueError):
            ours.fit_transform(texts)
        return
    _assert_same(ours, ours.fit_transform(texts), theirs, x_theirs)
    _assert_same(ours, ours.transform(unseen), theirs, theirs.transform(unseen))


def test_errors_like_scikit_learns():
    with pytest.raises(ValueError, match="empty vocabulary"):
        CharNgramTfidf().fit_transform([])
    with pytest.raises(ValueError, match="empty vocabulary"):
        CharNgramTfidf().fit_transform(["", " \n\t "])
    with pytest.raises(ValueError, match="2 or more texts"):
        CharNgramTfidf(min_df=2).fit_transform(["only one text"])  # what the text model's min_df=1 fallback catches
    with pytest.raises(ValueError, match="3 or more texts"):
        CharNgramTfidf(min_df=3).fit_transform(["ab", "ab", "cd"])
    model = CharNgramTfidf(min_df=1)
    x = model.fit_transform(["only one text"])
    assert x.shape == (1, len(model.vocabulary_)) and np.isclose(sparse.linalg.norm(x), 1.0)


def test_texts_without_known_ngrams_are_zero_rows():
    model = CharNgramTfidf(min_df=1)
    model.fit_transform(["abc", "abd"])
    x = model.transform(["", "zzz", "abc"])
    assert x.shape == (3, len(model.vocabulary_))
    assert x[0].nnz == 0 and x[1].nnz == 0 and np.isclose(sparse.linalg.norm(x[2]), 1.0)
    assert model.transform([]).shape == (0, len(model.vocabulary_))


def test_text_model_falls_back_to_every_ngram_when_none_is_in_two_texts():
    # No word of 2+ characters (no word features) and no character n-gram in two texts: the
    # model keeps every n-gram (min_df 1) and still learns; a single text trains too.
    model = TextClassifier().fit(["a b", "c d"], ["x", "y"])
    assert model._vectorizer.words is None and model._vectorizer.chars.min_df == 1
    assert model.predict(["a", "d"]) == ["x", "y"]
    single = TextClassifier().fit(["only one text"], ["x"])
    assert single._vectorizer.chars.min_df == 1 and single.predict(["anything"]) == ["x"]
    with pytest.raises(ValueError, match="empty vocabulary"):
        TextClassifier().fit(["", " "], ["x", "y"])


POS = ["a great and moving film", "wonderful acting, great story", "loved every minute", "great fun", "a joy to watch",
       "great, great film"]
NEG = ["a dull, boring mess", "awful script and bad acting", "boring and far too long", "bad, dull film", "a waste of time",
       "dull and bad"]


def test_model_pickled_with_scikit_learns_char_vectorizer_still_loads_predicts_and_warm_starts():
    texts, labels = POS + NEG, ["pos"] * len(POS) + ["neg"] * len(NEG)
    model = TextClassifier(tol=1e-9).fit(texts, labels)
    # The layout a model saved before CharNgramTfidf has: scikit-learn's fitted char_wb vectorizer
    # (as textmodel built it then) in ``chars``, with the same columns as the weights.
    old = TextClassifier.loads(model.dumps())
    old._vectorizer.chars = _sklearn(min_df=2, max_features=300_000).fit(texts)
    old._vectorizer.__dict__.pop("_names", None)
    blob = old.dumps()
    assert b"TfidfVectorizer" in blob and b"CharNgramTfidf" not in blob
    loaded = TextClassifier.loads(blob)
    probe = ["great acting", "boring film", "something else entirely", ""]
    np.testing.assert_allclose(loaded.predict_proba(probe), model.predict_proba(probe), rtol=1e-6, atol=1e-7)
    assert loaded.predict(["a great film", "a dull mess"]) == ["pos", "neg"]
    assert list(loaded._vectorizer.feature_names()) == list(model._vectorizer.feature_names())
    # A retrain warm-starts from the old model by feature name: the same start as from the new one.
    more_texts, more_labels = texts + ["great joy", "bad mess"], labels + ["pos", "neg"]
    from_old = TextClassifier(tol=1e-9).fit(more_texts, more_labels, warm_from=loaded)
    from_new = TextClassifier(tol=1e-9).fit(more_texts, more_labels, warm_from=model)
    assert isinstance(from_old._vectorizer.chars, CharNgramTfidf)
    assert from_old._model.n_iter == from_new._model.n_iter
    np.testing.assert_allclose(from_old.predict_proba(probe), from_new.predict_proba(probe), rtol=1e-6, atol=1e-7)
    assert pickle.loads(pickle.dumps(from_old))._vectorizer.chars.vocabulary_ == from_old._vectorizer.chars.vocabulary_
