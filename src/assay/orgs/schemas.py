"""Request bodies of the people API (an admin adding and changing accounts)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from assay.schemas import RequestBody

RoleName = Literal["admin", "customer", "reviewer", "annotator"]
Password = Annotated[str, Field(min_length=8, max_length=1024, description="At least 8 characters.")]
PersonName = Annotated[str, Field(max_length=200)]


class NewUserBody(RequestBody):
    email: Annotated[str, Field(max_length=320, description="Unique within the organization.")]
    role: RoleName
    password: Password
    name: PersonName = ""


class UserChangeBody(RequestBody):
    """Any of the keys; only those given change. A new password or a deactivation ends
    every session of the person."""

    model_config = ConfigDict(strict=True, extra="forbid")

    active: bool = True
    role: RoleName = "annotator"
    password: Password = ""
    name: PersonName = ""
