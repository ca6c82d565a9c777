"""The OpenAI-compatible chat protocol (`POST {base URL}/chat/completions`, `GET {base
URL}/models`), spoken to any endpoint that implements it (OpenAI, vLLM, llama.cpp's server,
Ollama, LiteLLM...), through netguard like every outbound call. The API key travels in
the Authorization header and appears in no error message."""

from __future__ import annotations

from typing import Any

from assay.backends.models import ProjectModel
from assay.backends.service.calls import call_endpoint


class ChatError(Exception):
    """The endpoint failed or answered something that is not a chat completion."""


def _headers(model: ProjectModel) -> dict[str, str]:
    return {"authorization": f"Bearer {model.api_key}"} if model.api_key else {}


def _call(model: ProjectModel, method: str, path: str, body: Any = None) -> Any:
    return call_endpoint(model, method, path, body, error=ChatError, headers=_headers(model))


def complete(model: ProjectModel, messages: list[dict[str, str]]) -> str:
    """One chat completion: the assistant message's text."""
    answer = _call(model, "POST", "/chat/completions",
                   {"model": model.model_name, "messages": messages, "temperature": model.temperature})
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ChatError(f"POST {model.url.rstrip('/')}/chat/completions did not answer a chat completion: {str(answer)[:200]}") from None
    if not isinstance(content, str):
        raise ChatError("the chat completion has no text content")
    return content


def list_models(model: ProjectModel) -> list[str]:
    """`GET /models`: the model names the endpoint serves (the health check)."""
    answer = _call(model, "GET", "/models")
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list):
        raise ChatError(f"GET {model.url.rstrip('/')}/models did not answer {{\"data\": [...]}}")
    return [m.get("id") for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]
