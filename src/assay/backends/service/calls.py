"""One call to a model endpoint (an HTTP backend or an OpenAI-compatible server) through
netguard, with every failure turned into the caller's error type and a message that names
the request but never the key."""

from __future__ import annotations

from typing import Any

import httpx

from assay.backends.models import ProjectModel
from assay.netguard import UrlRefused, call_json


def call_endpoint(model: ProjectModel, method: str, path: str, body: Any, *, error: type[Exception],
                  headers: dict[str, str] | None = None) -> Any:
    url = model.url.rstrip("/") + path
    try:
        return call_json(method, url, body, timeout=model.timeout_seconds, headers=headers)
    except UrlRefused as exc:
        raise error(str(exc)) from None
    except httpx.TimeoutException:
        raise error(f"{method} {url} timed out after {model.timeout_seconds:g} s") from None
    except httpx.HTTPError as exc:
        raise error(f"{method} {url} failed: {exc.__class__.__name__}: {exc}") from None
