"""The request body that attaches or changes a project's model backend."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from assay.schemas import RequestBody

BACKENDS = ("builtin", "http", "openai")
PROMPT_MODES = ("pairwise", "ranking", "rubric", "multichat")
FEATURES = ("tfidf", "embeddings")
RULES = ("lowest", "fixed_sequence")
STRATEGIES = ("as_submitted", "random", "least_confidence", "margin", "entropy", "uncertainty_diversity", "badge", "balanced_margin")


class ModelSettingsBody(RequestBody):
    """Every key is optional: a PATCH changes what it names. `{"backend": null}` detaches
    the model. Unknown keys are refused (a misspelt setting must not pass silently)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    backend: Literal["builtin", "http", "openai"] | None = None
    url: Annotated[str, Field(max_length=2000, description="An http backend's base URL (GET /health, POST /predict, POST /train); "
                                                         "an openai backend's (POST /chat/completions).")] | None = None
    model_name: Annotated[str, Field(min_length=1, max_length=200, description="The model an openai backend asks for.")] | None = None
    api_key: Annotated[str, Field(min_length=1, max_length=4000, description="Sent as a bearer token; stored, never shown again.")] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    concurrency: Annotated[int, Field(ge=1, le=32, description="Calls to the endpoint at once.")] | None = None
    prompts: dict[Literal["pairwise", "ranking", "rubric", "multichat"], Annotated[str, Field(min_length=1, max_length=20_000)]] | None = None
    swap_positions: bool | None = None
    judge_votes: bool | None = None
    timeout_seconds: Annotated[float, Field(ge=0.1, le=300)] | None = None
    features: Literal["tfidf", "embeddings"] | None = None
    retrain_every: Annotated[int, Field(ge=1, le=1_000_000, description="New finished labels between trainings.")] | None = None
    min_train_labels: Annotated[int, Field(ge=2, le=1_000_000)] | None = None
    prelabels: bool | None = None
    queue_strategy: Literal["as_submitted", "random", "least_confidence", "margin", "entropy", "uncertainty_diversity", "badge",
                            "balanced_margin"] | None = None
    autoaccept_target: Annotated[float, Field(ge=0.5, le=0.9999, description="The accuracy to guarantee; null turns auto-accept off.")] | None = None
    autoaccept_confidence: Annotated[float, Field(ge=0.5, le=0.9999)] | None = None
    autoaccept_rule: Literal["lowest", "fixed_sequence"] | None = None
    audit_fraction: Annotated[float, Field(ge=0.0, le=1.0)] | None = None


class PreviousTurn(RequestBody):
    """What the conversation kept of an earlier turn: the reply chosen, and its edit."""

    model_config = ConfigDict(strict=True, extra="forbid")

    chosen: Annotated[str, Field(min_length=1, max_length=100)]
    edited: Annotated[str, Field(max_length=100_000)] | None = None


class ChatTurnBody(RequestBody):
    """One live-chat turn: its number (0 for the first), the labeler's prompt, and for each
    earlier turn the reply that continues the conversation."""

    model_config = ConfigDict(strict=True, extra="forbid")

    turn: Annotated[int, Field(ge=0, le=49)]
    prompt: Annotated[str, Field(min_length=1, max_length=20_000)]
    previous: Annotated[list[PreviousTurn], Field(max_length=49)] = []


class ModelEndpoint(RequestBody):
    """A model to evaluate: an OpenAI-compatible chat endpoint."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100, description="How reports name this model (version).")]
    url: Annotated[str, Field(min_length=1, max_length=2000)]
    model_name: Annotated[str, Field(min_length=1, max_length=200)]
    api_key: Annotated[str, Field(min_length=1, max_length=4000)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.0
    timeout_seconds: Annotated[float, Field(ge=0.1, le=300)] = 30.0


class EvalMessage(RequestBody):
    model_config = ConfigDict(strict=True, extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: Annotated[str, Field(min_length=1, max_length=100_000)]


class EvalItem(RequestBody):
    """One prompt of the evaluation set (`prompt`, or a whole conversation in `messages`),
    with the reference answer the judge compares against."""

    model_config = ConfigDict(strict=True, extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    prompt: Annotated[str, Field(min_length=1, max_length=100_000)] | None = None
    messages: Annotated[list[EvalMessage], Field(min_length=1, max_length=100)] | None = None
    reference: Annotated[str, Field(min_length=1, max_length=100_000)] | None = None
    metadata: dict[str, str] | None = None


class EvaluationBody(RequestBody):
    """An evaluation run: the set, one or two model endpoints, and who judges."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    items: Annotated[list[EvalItem], Field(min_length=1, max_length=200)]
    models: Annotated[list[ModelEndpoint], Field(min_length=1, max_length=2)]
    judge: bool = True
    people: bool = False
    concurrency: Annotated[int, Field(ge=1, le=16)] = 4
