"""The request body that attaches or changes a project's model backend."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from assay.schemas import RequestBody

BACKENDS = ("builtin", "http")
FEATURES = ("tfidf", "embeddings")
RULES = ("lowest", "fixed_sequence")
STRATEGIES = ("as_submitted", "random", "least_confidence", "margin", "entropy", "uncertainty_diversity", "badge", "balanced_margin")


class ModelSettingsBody(RequestBody):
    """Every key is optional: a PATCH changes what it names. `{"backend": null}` detaches
    the model. Unknown keys are refused (a misspelt setting must not pass silently)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    backend: Literal["builtin", "http"] | None = None
    url: Annotated[str, Field(max_length=2000, description="An http backend's base URL (GET /health, POST /predict, POST /train).")] | None = None
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
