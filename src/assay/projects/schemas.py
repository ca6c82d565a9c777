"""A project's quality policy and workbench settings as request bodies. The same policy
fields are accepted in Scale's project params (create, setParams) and in the native
settings PATCH; both validate through `QualityPolicy`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from assay.schemas import RequestBody

AGGREGATIONS = ("auto", "majority_vote", "weighted_majority_vote", "dawid_skene", "one_coin_dawid_skene", "glad",
                "bayesian_dawid_skene", "community_dawid_skene", "mace")
Aggregation = Literal["auto", "majority_vote", "weighted_majority_vote", "dawid_skene", "one_coin_dawid_skene", "glad",
                      "bayesian_dawid_skene", "community_dawid_skene", "mace"]


class QualityPolicy(RequestBody):
    """Labels per task and adaptive overlap, review sampling, gold, and the consolidation
    method. Every key optional: only those given change."""

    labels_per_task: Annotated[int, Field(ge=1, le=100, description="Labels each task needs before it is consolidated.")] = 1
    max_labels: Annotated[int, Field(ge=1, le=100, description="Adaptive overlap: at most this many labels (≥ labels_per_task).")] | None = None
    target_confidence: Annotated[float, Field(ge=0.5, lt=1, description="Another label while the consensus confidence is below this.")] | None = None
    review_fraction: Annotated[float, Field(ge=0, le=1, description="The share of tasks a reviewer checks.")] = 0.0
    review_below: Annotated[float, Field(ge=0.5, le=1, description="Tasks whose consensus confidence is lower go to review.")] | None = None
    gold_rate: Annotated[float, Field(ge=0, le=1, description="The share of a labeler's tasks that are gold items.")] = 0.0
    qualification_size: Annotated[int, Field(ge=0, le=100, description="Gold items a labeler answers before real work.")] = 0
    pause_below: Annotated[float, Field(ge=0.05, le=0.99, description="Gold accuracy below which a labeler is paused.")] | None = None
    aggregation: Aggregation = "auto"
    route_by_accuracy: bool = Field(False, description="Serve the least certain tasks (waiting for another label) to the most accurate people available first.")


class ProjectSettingsBody(QualityPolicy):
    """`PATCH /api/projects/{id}`: the quality policy plus the instructions (Markdown; a new
    params version, as setParams makes). Unknown keys are refused."""

    model_config = ConfigDict(strict=True, extra="forbid")

    instruction: Annotated[str, Field(max_length=100_000)] = ""


class MemberBody(RequestBody):
    email: Annotated[str, Field(min_length=1, max_length=320, description="The e-mail of a user of this organization.")]


class GoldItemBody(RequestBody):
    """`POST /api/projects/{id}/gold`: the project's task params plus `expected_response`."""

    model_config = ConfigDict(strict=True, extra="allow")

    kind: Literal["evaluation", "training"] = "evaluation"
    expected_response: dict = Field(description="The correct answer, in the task type's response format.")


class NewProjectBody(RequestBody):
    """`POST /api/projects`: a project from a template (projects/templates.py): its name,
    the labels (or criteria, or strength levels) the template builds its params from, the
    instructions (Markdown) and the quality policy."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    template: Annotated[str, Field(min_length=1, max_length=40, description="A template id of GET /api/project-templates.")]
    labels: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1, max_length=500)] | None = None
    instruction: Annotated[str, Field(max_length=100_000)] = ""
    labels_per_task: Annotated[int, Field(ge=1, le=100)] = 1
    review_fraction: Annotated[float, Field(ge=0, le=1)] = 0.0


class MarkdownBody(RequestBody):
    text: Annotated[str, Field(max_length=100_000)]
