"""Character n-gram TF-IDF within word boundaries: the same matrix as scikit-learn's
``TfidfVectorizer(analyzer="char_wb", lowercase=True, sublinear_tf=True)`` (smooth idf, l2 rows,
columns in sorted-term order, ``min_df`` and ``max_features`` pruned the same way), several times
faster.

Why it is faster: a word's n-grams depend only on the word, so they are cut once per distinct
word (scikit-learn cuts them again at every occurrence, in Python), and the counting is a sparse
product in C: (n-grams × words: how often each n-gram is in each word) × (words × texts: how
often each word is in each text). That product comes out n-grams × texts, which makes min_df and
max_features row selections and leaves one transposition to texts × n-grams, whose columns then
come out sorted without a sort.

Pure numpy/scipy: no database or web imports.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import repeat
from typing import Callable, Sequence

import numpy as np
from scipy import sparse


def word_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """The n-grams (``min_n`` ≤ n ≤ ``max_n``) of ``word`` padded with one space each side, as
    scikit-learn's ``char_wb`` analyzer cuts them: for a padded word no longer than n, the whole
    padded word once and no longer n-grams (they would repeat it)."""
    padded = f" {word} "
    length = len(padded)
    grams = []
    for n in range(min_n, max_n + 1):
        if length <= n:
            grams.append(padded)
            break
        grams += [padded[i:i + n] for i in range(length - n + 1)]
    return grams


def _words_by_texts(texts: Sequence[str]) -> tuple[sparse.csc_matrix, list[str]]:
    """(distinct words × texts count matrix, the distinct words). Words as scikit-learn's
    ``char_wb`` sees them: the lowercased text split on any whitespace. A word repeated in a text
    is one entry per occurrence; the product adds them up."""
    index: dict[str, int] = {}
    ids: list[int] = []
    indptr = [0]
    for text in texts:
        ids += [index.setdefault(w, len(index)) for w in text.lower().split()]
        indptr.append(len(ids))
    counts = sparse.csc_matrix((np.ones(len(ids), dtype=np.int32), np.array(ids, dtype=np.int32), np.array(indptr, dtype=np.int64)),
                               shape=(len(index), len(texts)))
    return counts, list(index)


def _ngrams_by_texts(texts: Sequence[str], rows_of: Callable[[list[str]], list[int]], n_rows: Callable[[], int],
                     ngram_range: tuple[int, int]) -> sparse.csr_matrix:
    """N-grams × texts count matrix. ``rows_of`` gives the rows of a word's n-grams (-1: not
    counted); ``n_rows`` how many rows there are once every word has been cut."""
    by_text, words = _words_by_texts(texts)
    min_n, max_n = ngram_range
    rows: list[int] = []
    lengths = np.zeros(len(words), dtype=np.int64)
    for i, word in enumerate(words):
        cut = rows_of(word_ngrams(word, min_n, max_n))
        rows += cut
        lengths[i] = len(cut)
    gram_rows = np.array(rows, dtype=np.int64)
    word_columns = np.repeat(np.arange(len(words), dtype=np.int64), lengths)
    known = gram_rows >= 0
    by_word = sparse.csr_matrix((np.ones(int(known.sum()), dtype=np.int32), (gram_rows[known], word_columns[known])),
                                shape=(n_rows(), len(words)))
    return by_word @ by_text


class CharNgramTfidf:
    """``fit_transform(texts)`` / ``transform(texts)`` → CSR float64 TF-IDF rows over character
    n-grams (``ngram_range``, default 2-5) within word boundaries; ``vocabulary_`` (n-gram →
    column) and ``get_feature_names_out()`` as in scikit-learn. ``min_df``: an integer number
    of texts; ``max_features``: keep that many n-grams with the highest corpus counts (ties
    broken as scikit-learn breaks them). Raises ValueError when no text has a word, or no
    n-gram is left after ``min_df`` (as scikit-learn does)."""

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), min_df: int = 2, max_features: int | None = None):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        index: defaultdict[str, int] = defaultdict()
        index.default_factory = index.__len__  # a new n-gram gets the next row
        counts = _ngrams_by_texts(texts, lambda grams: list(map(index.__getitem__, grams)), index.__len__, self.ngram_range)
        index.default_factory = None  # drops the dict's reference to itself: freed on return, not at the next GC
        if not index:
            raise ValueError("empty vocabulary: no text has a word")
        df = np.diff(counts.indptr)  # a product's rows hold no duplicates: a row's length is its texts
        grams = list(index)
        terms = sorted(grams[i] for i in np.flatnonzero(df >= self.min_df).tolist())
        if not terms:
            raise ValueError(f"no n-gram is in {self.min_df} or more texts")
        kept = np.fromiter(map(index.__getitem__, terms), dtype=np.int64, count=len(terms))
        if self.max_features is not None and len(kept) > self.max_features:
            # scikit-learn's rule and call: the corpus counts as float64 in term order, argsort's
            # default (unstable) kind, so ties fall the same way.
            totals = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
            top = np.sort((-totals[kept]).argsort()[:self.max_features])
            kept, terms = kept[top], [terms[i] for i in top.tolist()]
        self.vocabulary_ = dict(zip(terms, range(len(terms))))
        # scikit-learn's smooth idf, operation for operation (the same float64 values).
        self.idf_ = np.full(len(kept), len(texts) + 1, dtype=np.float64)
        self.idf_ /= df[kept].astype(np.float64) + 1.0
        np.log(self.idf_, out=self.idf_)
        self.idf_ += 1.0
        return self._weigh(counts[kept])

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        get = self.vocabulary_.get
        counts = _ngrams_by_texts(texts, lambda grams: list(map(get, grams, repeat(-1))), self.vocabulary_.__len__, self.ngram_range)
        return self._weigh(counts)

    def get_feature_names_out(self) -> np.ndarray:
        return np.array(sorted(self.vocabulary_), dtype=object)  # the columns are in term order

    def _weigh(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """Texts × n-grams from n-grams × texts ``counts``: sublinear tf (1 + log count) × idf,
        rows scaled to unit length, float64 with sorted columns in each row (like scikit-learn's)."""
        x = counts.T.tocsr()  # a transposition: each row's columns come out in order
        x.data = np.log(x.data, dtype=np.float64)
        x.data += 1.0
        x.data *= self.idf_[x.indices]
        lengths = np.diff(x.indptr)
        # Sums of squares per row; reduceat reads one element for an empty row, hence the 0 after
        # the last row and the reset.
        squares = np.add.reduceat(np.append(x.data * x.data, 0.0), x.indptr[:-1]) if x.shape[0] else np.zeros(0)
        squares[lengths == 0] = 1.0
        x.data /= np.repeat(np.sqrt(squares), lengths)
        return x
