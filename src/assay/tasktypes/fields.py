"""Validation helpers the task-type plug-ins share: URL and number types, errors located
at a field path, tagged unions, uniqueness checks, synthetic ids. Plain functions and types,
not part of the plug-in interface (that is base.py)."""

from __future__ import annotations

import math
import random
import uuid as uuidlib
from typing import Annotated, Any, Literal, NoReturn, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationError,
    ValidationInfo,
    create_model,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

URL_SCHEMES = ("http://", "https://", "scaledata://")


def fail(loc: tuple, message: str, value: Any = None) -> NoReturn:
    """Raise a validation error located at `loc` (relative to the model being validated).

    pydantic prefixes the location of the enclosing field, so raising this from a
    model validator of a nested model gives a full path such as `annotations[3].label`.
    """
    raise ValidationError.from_exception_data(
        "assay",
        [
            InitErrorDetails(
                type=PydanticCustomError("invalid", "{reason}", {"reason": message}),
                loc=tuple(loc),
                input=value,
            )
        ],
    )


def _check_url(value: str) -> str:
    lowered = value.lower()
    for scheme in URL_SCHEMES:
        if lowered.startswith(scheme) and value[len(scheme):].strip():
            return value
    raise ValueError("must be an http://, https:// or scaledata:// URL")


URL = Annotated[str, AfterValidator(_check_url)]
NonEmptyStr = Annotated[str, Field(min_length=1)]


def is_url(value: Any) -> bool:
    try:
        _check_url(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def _number_validator(gt: float | None = None, ge: float | None = None):
    def validate(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("must be a number")
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        if gt is not None and not value > gt:
            raise ValueError(f"must be greater than {gt:g}")
        if ge is not None and not value >= ge:
            raise ValueError(f"must be at least {ge:g}")
        return value

    return PlainValidator(validate)


# A JSON number, kept as given (10 stays 10, 10.5 stays 10.5); booleans, strings, NaN refused.
Number = Annotated[Any, _number_validator()]
NonNegNumber = Annotated[Any, _number_validator(ge=0)]
PosNumber = Annotated[Any, _number_validator(gt=0)]


def tagged_union(key: str, variants: dict[str, type], name: str = "Variant") -> Any:
    """A union of models chosen by the value of `key` (e.g. `type`).

    Tags are written `key[value]` so that `_loc_to_field` drops them from error paths
    (`annotations[0].width`, not `annotations[0].box.width`). An unknown or missing tag is
    validated against a stand-in model whose only field is `key: Literal[...]`, so the
    error reads `annotations[0].type: Input should be 'box', 'polygon', ...`.
    """
    allowed = tuple(variants)

    def must_be_object(cls: type, value: Any) -> Any:
        if not isinstance(value, (dict, BaseModel)):
            raise ValueError("must be a JSON object")
        return value

    unknown = create_model(
        f"Unknown{name}",
        __config__=ConfigDict(extra="allow"),
        __validators__={"_object": model_validator(mode="before")(classmethod(must_be_object))},
        **{key: (Literal[allowed], ...)},
    )

    def discriminate(value: Any) -> str:
        tag = value.get(key) if isinstance(value, dict) else getattr(value, key, None)
        return f"{key}[{tag}]" if isinstance(tag, str) and tag in variants else f"{key}[?]"

    members = [Annotated[model, Tag(f"{key}[{tag}]")] for tag, model in variants.items()]
    members.append(Annotated[unknown, Tag(f"{key}[?]")])
    return Annotated[Union[tuple(members)], Discriminator(discriminate)]


def string_or_model(model: type, string_type: Any = NonEmptyStr) -> Any:
    """`str | model` without pydantic's union noise in error paths."""

    def discriminate(value: Any) -> str:
        return "[object]" if isinstance(value, (dict, BaseModel)) else "[string]"

    return Annotated[
        Union[Annotated[string_type, Tag("[string]")], Annotated[model, Tag("[object]")]],
        Discriminator(discriminate),
    ]


def one_or_many(item_type: Any) -> Any:
    """`item | list[item]` without pydantic's union noise in error paths."""

    def discriminate(value: Any) -> str:
        return "[many]" if isinstance(value, list) else "[one]"

    return Annotated[
        Union[Annotated[item_type, Tag("[one]")], Annotated[list[item_type], Tag("[many]")]],
        Discriminator(discriminate),
    ]


def context_params(info: ValidationInfo) -> dict[str, Any]:
    params = (info.context or {}).get("params") if info is not None else None
    return params if isinstance(params, dict) else {}


def synthetic_uuid(rng: random.Random) -> str:
    return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))


def choice_names(items: Any) -> list[str]:
    """Flatten `[str | {choice, subchoices?}]` (objects_to_annotate, segmentation labels)
    into every selectable name: top-level strings and choices, and their subchoices."""
    names: list[str] = []
    for item in items or []:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            if isinstance(item.get("choice"), str):
                names.append(item["choice"])
            names.extend(choice_names(item.get("subchoices")))
        elif isinstance(item, BaseModel):
            names.extend(choice_names([item.model_dump()]))
    return names


def leaf_names(items: Any) -> list[str]:
    """The most specific names: strings, and choices without subchoices (else their leaves)."""
    names: list[str] = []
    for item in items or []:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            sub = item.get("subchoices")
            if sub:
                names.extend(leaf_names(sub))
            elif isinstance(item.get("choice"), str):
                names.append(item["choice"])
    return names


def check_unique(names: list[str], loc: tuple, what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            fail(loc, f"{what} must be unique; {name!r} appears more than once")
        seen.add(name)
