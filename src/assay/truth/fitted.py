"""A project's fitted truth model as the consolidation of one task sees it: the task's
answers scored with the fitted parameters (one E-step, `quality.online.posterior_given`),
without refitting anything. The fit itself is truth/service.py's, in the background jobs."""

from __future__ import annotations

from typing import Any, Hashable, Sequence

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from assay.tasktypes import get_plugin
from assay.truth.models import TruthModel

# the project aggregations that have a fitted model; `auto` fits the model it chooses
# (quality.auto) once the project has ASSAY_TRUTH_REFIT_LABELS labels
NAMED_METHODS = ("dawid_skene", "one_coin_dawid_skene", "glad", "bayesian_dawid_skene", "community_dawid_skene", "mace", "auto")
TM = TruthModel.__table__
_MODEL = select(TM.c.fitted_at, TM.c.method, TM.c.state).where(TM.c.project_id == bindparam("p"))
# parsed parameters per (project, fitted_at): states are read on every consolidation
_CACHE: dict[tuple[int, Any], tuple[str, dict, list, Any, float]] = {}


def key_text(key: Hashable) -> str:
    """A consensus key as stable text (keys are category strings, tuples or JSON bytes)."""
    if isinstance(key, bytes):
        return key.decode()
    return orjson.dumps(key, option=orjson.OPT_SORT_KEYS).decode()


def is_categorical(task_type: str, params: dict[str, Any]) -> bool:
    return get_plugin(task_type).is_categorical(params)


def fitted_posterior(session: Session, project_id: int, method: str, users: Sequence[int | None], keys: Sequence[Hashable]):
    """(posterior per distinct key, model) scored with the project's fitted model, or None
    when there is no fit for this method yet or an answer is not one of its classes. The
    model is the method itself, or for `auto` the model it chose; `auto`'s posteriors are
    tempered by the temperature fitted with it."""
    from assay.quality.online import posterior_given  # noqa: PLC0415 - numpy loads on the first fitted consolidation

    row = session.connection().execute(_MODEL, {"p": project_id}).first()
    if row is None or row.method != method or len(row.state.get("classes", ())) < 2:
        return None
    cached = _CACHE.get((project_id, row.fitted_at))
    if cached is None:
        import numpy as np  # noqa: PLC0415 - numpy loads on the first fitted consolidation

        from assay.quality.online import FittedParameters  # noqa: PLC0415 - as numpy

        state = row.state
        worker_ids = {int(u): i for i, u in enumerate(state["workers"])}
        confusions = np.array(list(state["workers"].values()), dtype=float).reshape(len(worker_ids), len(state["classes"]), -1) \
            if worker_ids else np.zeros((0, len(state["classes"]), len(state["classes"])))
        params = FittedParameters(np.array(state["class_prior"]), confusions, np.array(state["population"]))
        cached = (state.get("chosen", row.method), {c: i for i, c in enumerate(state["classes"])}, worker_ids, params,
                  float(state.get("temperature", 1.0)))
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[(project_id, row.fitted_at)] = cached
    model, classes, worker_ids, params, temperature = cached
    texts = [key_text(k) for k in keys]
    if any(t not in classes for t in texts):
        return None
    post = posterior_given(params, [worker_ids.get(u, -1) if u is not None else -1 for u in users], [classes[t] for t in texts],
                           temperature=temperature)
    return {k: float(post[classes[t]]) for k, t in zip(keys, texts)}, model
