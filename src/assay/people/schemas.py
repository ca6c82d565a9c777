"""Request bodies of the people endpoints (skills, rates, well-being)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from assay.schemas import RequestBody

SkillName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w .:/+-]+$", description="A skill name, e.g. 'medical' or 'lang:de'.")]


class SkillBody(RequestBody):
    level: Annotated[int, Field(ge=1, le=10, description="The level held (requirements ask for a minimum level).")] = 1


class SkillFromGoldBody(RequestBody):
    """Grant a skill to everyone whose gold record in a project is good enough."""

    project_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: SkillName
    level: Annotated[int, Field(ge=1, le=10)] = 1
    min_accuracy: Annotated[float, Field(ge=0, le=1, description="Share of evaluation answers correct.")] = 0.8
    min_answers: Annotated[int, Field(ge=1, le=10_000, description="Evaluation answers needed at least.")] = 5


class RateBody(RequestBody):
    """A pay rate for a person, a project, both, or (neither) the organization's default."""

    user_id: Annotated[int, Field(ge=1)] | None = None
    project_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    unit: Literal["task", "label", "hour"]
    amount: Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR.")]


class WellbeingBody(RequestBody):
    avoid_flagged: bool | None = None
    exposure_budget: Annotated[int, Field(ge=0, le=10_000, description="Flagged tasks per day; null: the organization's default.")] | None = None
