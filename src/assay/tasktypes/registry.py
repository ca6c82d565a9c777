from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from assay.errors import ApiError, InvalidRequest
from assay.tasktypes.base import TaskTypePlugin

_PLUGINS: dict[str, TaskTypePlugin] = {}
_loaded = False

# Scale task types this server knows by name but does not implement: creating one is a
# 402 (ScaleNotEnabled), as Scale answers for a type not enabled on an account.
SCALE_TYPES_NOT_ENABLED = frozenset(
    {
        "videoplaybackannotation", "lidarannotation", "lidarsegmentation", "lidarlinking",
        "lidartopdown", "sensorfusion", "chatexperimental", "chatlite",
        "documentmodel", "annotation", "polygonannotation", "lineannotation", "pointannotation",
        "cuboidannotation", "transcription", "datacollection", "videoboxannotation",
        "videocuboidannotation", "laneannotation", "multistage", "federal2dvideoannotation",
    }
)


def register(cls: type[TaskTypePlugin]) -> type[TaskTypePlugin]:
    _PLUGINS[cls.name] = cls()
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for mod in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if mod.name not in ("base", "registry", "fields"):
            importlib.import_module(f"assay.tasktypes.{mod.name}")
    _loaded = True


def get_plugin(name: str) -> TaskTypePlugin | None:
    _load()
    return _PLUGINS.get(name)


def check_task_type(value, field: str = "type") -> str:
    """A task type name this server implements; 400 naming the field otherwise (402 for a
    Scale type it knows but does not implement, as Scale answers for a type not enabled)."""
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{field}: must be a task type name such as 'categorization'", field=field)
    if get_plugin(value) is None:
        if value in SCALE_TYPES_NOT_ENABLED:
            raise ApiError(f"{field}: task type {value!r} is not enabled on this server", field=field, status_code=402)
        raise InvalidRequest(f"{field}: unknown task type {value!r}", field=field)
    return value


def plugins() -> dict[str, TaskTypePlugin]:
    _load()
    return dict(_PLUGINS)
