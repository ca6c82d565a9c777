"""The HTTP model-backend protocol (docs/model-backends.md): GET /health, POST /predict,
POST /train, through netguard (private addresses refused unless allowed). A failure is a
BackendError, recorded on the project and never raised to labelers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from assay.backends.models import ProjectModel
from assay.backends.service import openai
from assay.backends.service.calls import call_endpoint
from assay.backends.service.settings import get_model, record
from assay.db import utcnow
from assay.errors import InvalidRequest, field_error
from assay.projects.models import Project


class BackendError(Exception):
    """The backend failed (unreachable, refused, wrong answer); recorded, never raised to labelers."""


def call(model: ProjectModel, method: str, path: str, body: Any = None) -> Any:
    return call_endpoint(model, method, path, body, error=BackendError)


def require_healthy(db, model: ProjectModel) -> None:
    answer = call(model, "GET", "/health")
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        raise BackendError(f"GET {model.url.rstrip('/')}/health did not answer {{\"status\": \"ok\"}}: {str(answer)[:200]}")
    if not model.healthy:
        record(db, model.id, healthy=True)


def check_health(session: Session, project: Project) -> dict[str, Any]:
    """`POST /api/projects/{id}/model/check`: ask the backend now; the answer (or the
    error) is also recorded on the project."""
    model = get_model(session, project)
    if model is None:
        raise field_error("backend", "no model backend is attached to this project")
    if model.backend == "builtin":
        return {"healthy": True, "backend": "builtin", "version": model.version}
    if model.backend == "openai":
        try:
            served = openai.list_models(model)
            model.healthy = not served or model.model_name in served
            model.last_error = None if model.healthy else f"the endpoint does not serve {model.model_name!r} (it serves {', '.join(served[:10])})"
        except openai.ChatError as exc:
            model.healthy, model.last_error, model.last_error_at = False, str(exc), utcnow()
        return {"healthy": model.healthy, "backend": "openai", "error": model.last_error}
    try:
        answer = call(model, "GET", "/health")
        ok = isinstance(answer, dict) and answer.get("status") == "ok"
        model.healthy = ok
        model.last_error = None if ok else f"/health answered {str(answer)[:200]}"
    except BackendError as exc:
        model.healthy, model.last_error, model.last_error_at = False, str(exc), utcnow()
    return {"healthy": model.healthy, "backend": "http", "error": model.last_error}


def validated_prediction(plugin, params: dict, item: Any) -> dict[str, Any] | None:
    """A backend's prediction for one task, validated like a human answer; None if not."""
    if not isinstance(item, dict) or not isinstance(item.get("response"), dict):
        return None
    score = item.get("score")
    if not isinstance(score, (int, float)) or isinstance(score, bool) or not 0 <= score <= 1:
        return None
    try:
        response = plugin.validate_response(item["response"], params, field="prediction")
    except InvalidRequest:
        return None
    probs = item.get("probabilities")
    if not (isinstance(probs, dict) and all(isinstance(v, (int, float)) for v in probs.values())):
        probs = None
    return {"response": response, "score": float(score), "probabilities": probs}
