"""The built-in backends: offline, in-process, CPU-only models behind the same three
operations as an HTTP backend (health, predict, train).

* categorization (single choice) — `learning.textmodel.TextClassifier` on the task's
  text (TF-IDF word + character n-grams and logistic regression; sentence embeddings with
  the `embeddings` extra);
* namedentityrecognition — `learning.spantagger.SpanTagger` (gazetteer + character
  n-gram token features, BIO decoding).

Models are pickled to DATA_DIR/models/project-<id>/v<version>.pkl: only files this
server wrote are ever loaded.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from assay.config import get_settings

SUPPORTED = ("categorization", "namedentityrecognition")
_LOADED: dict[tuple[int, int], Any] = {}
_LOCK = threading.Lock()


class NotPredictable(Exception):
    """The project's task type or content is not something the built-in models handle."""


def task_text(task_type: str, params: dict[str, Any]) -> str | None:
    """The text a built-in model reads: NER's `text`; a categorization task's text
    attachment (or its text attachments joined). None when the task has no text."""
    if task_type == "namedentityrecognition":
        return params.get("text")
    if params.get("attachment_type") == "text" and isinstance(params.get("attachment"), str):
        return params["attachment"]
    parts = [a.get("content") for a in params.get("attachments") or [] if isinstance(a, dict) and a.get("type") == "text"]
    return "\n".join(p for p in parts if isinstance(p, str)) or None


def _path(project_id: int, version: int) -> Path:
    return get_settings().data_dir / "models" / f"project-{project_id}" / f"v{version}.pkl"


def train(project_id: int, task_type: str, features: str, examples: list[tuple[dict, dict]], version: int) -> dict[str, Any]:
    """Fit on (params, consolidated response) pairs and save as `version`. Returns facts
    about the fit (examples, classes)."""
    texts, targets = [], []
    for params, response in examples:
        text = task_text(task_type, params)
        if not text:
            continue
        if task_type == "categorization":
            if not isinstance(response.get("category"), str):
                continue
            targets.append(response["category"])
        else:
            targets.append([(a["start"], a["end"], a["label"]) for a in response.get("annotations") or []])
        texts.append(text)
    if not texts:
        raise NotPredictable("no finished task has text the built-in model can read")
    if task_type == "categorization":
        from assay.learning.textmodel import TextClassifier  # noqa: PLC0415 - numpy and the models load with the first training

        # Start the solver from the version before (weights matched by class and term): a refit
        # after a few more labels then takes a fraction of a cold fit's steps.
        previous = _previous(project_id, version)
        warm_from = previous if isinstance(previous, TextClassifier) and previous.features == features else None
        model = TextClassifier(features=features).fit(texts, targets, warm_from=warm_from)
        facts = {"examples": len(texts), "classes": len(model.classes)}
    elif task_type == "namedentityrecognition":
        from assay.learning.spantagger import SpanTagger  # noqa: PLC0415 - as TextClassifier

        model = SpanTagger().fit(texts, targets)
        facts = {"examples": len(texts), "labels": len(model.labels)}
    else:
        raise NotPredictable(f"the built-in backend has no model for {task_type} tasks (it has: {', '.join(SUPPORTED)})")
    path = _path(project_id, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(model.dumps())
    tmp.replace(path)  # readers never see half a file
    with _LOCK:
        for key in [k for k in _LOADED if k[0] == project_id]:
            del _LOADED[key]  # one model per project in memory: the newest
        _LOADED[(project_id, version)] = model
    return facts


def _previous(project_id: int, version: int):
    """The project's model before ``version`` (in memory or on disk), or None (none, or unreadable)."""
    with _LOCK:
        held = {v: m for (p, v), m in _LOADED.items() if p == project_id and v < version}
    if held:
        return held[max(held)]
    path = _path(project_id, version - 1)
    if version <= 1 or not path.is_file():
        return None
    from assay.learning.textmodel import TextClassifier  # noqa: PLC0415 - loaded with the model it starts from

    try:
        return TextClassifier.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - a stale or foreign file only means a cold start
        return None


def _model(project_id: int, task_type: str, version: int):
    with _LOCK:
        model = _LOADED.get((project_id, version))
    if model is not None:
        return model
    blob = _path(project_id, version).read_bytes()
    if task_type == "categorization":
        from assay.learning.textmodel import TextClassifier  # noqa: PLC0415 - numpy and the models load with the first prediction

        model = TextClassifier.loads(blob)
    else:
        from assay.learning.spantagger import SpanTagger  # noqa: PLC0415 - as TextClassifier

        model = SpanTagger.loads(blob)
    with _LOCK:
        for key in [k for k in _LOADED if k[0] == project_id]:
            del _LOADED[key]  # one live version per project
        _LOADED[(project_id, version)] = model
    return model


def features_of(project_id: int, task_type: str, version: int, texts: list[str]):
    """The model's feature vectors (what uncertainty+diversity clusters on), or None."""
    if task_type != "categorization" or not texts:
        return None
    return _model(project_id, task_type, version).transform(texts)


def predict(project_id: int, task_type: str, version: int, tasks: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """One prediction per task params: {response, score, probabilities} or None when the
    task has no text or none of the model's classes are among its choices."""
    model = _model(project_id, task_type, version)
    texts = [task_text(task_type, p) for p in tasks]
    todo = [i for i, t in enumerate(texts) if t]
    out: list[dict[str, Any] | None] = [None] * len(tasks)
    if not todo:
        return out
    batch = [texts[i] for i in todo]
    if task_type == "categorization":
        proba = model.predict_proba(batch)
        for row, i in zip(proba, todo):
            allowed = tasks[i].get("categories") or []
            probs = {c: float(p) for c, p in zip(model.classes, row) if c in allowed}
            total = sum(probs.values())
            if not probs or total <= 0:
                continue
            probs = {c: round(p / total, 6) for c, p in probs.items()}
            best = max(probs, key=probs.get)
            out[i] = {"response": {"category": best}, "score": probs[best], "probabilities": probs}
    else:
        from assay.learning.spantagger import to_response  # noqa: PLC0415 - loaded with the model above

        for spans, i in zip(model.predict(batch), todo):
            names = [label["name"] for label in tasks[i].get("labels") or [] if isinstance(label, dict)]
            kept = [s for s in spans if s[2] in names and s[3] >= 0.5]
            response = to_response(kept, texts[i], labels=names)
            # the answer is only as sure as its least sure span; no span: a coin toss
            score = min((float(s[3]) for s in kept), default=0.5)
            out[i] = {"response": response, "score": round(score, 6), "probabilities": None}
    return out
