from __future__ import annotations

import importlib
import pkgutil

from assay.tasktypes.base import TaskTypePlugin

_PLUGINS: dict[str, TaskTypePlugin] = {}
_loaded = False

# Scale task types this server knows by name but does not implement: creating one is a
# 402 (ScaleNotEnabled), as Scale answers for a type not enabled on an account.
SCALE_TYPES_NOT_ENABLED = frozenset(
    {
        "videoplaybackannotation", "lidarannotation", "lidarsegmentation", "lidarlinking",
        "lidartopdown", "sensorfusion", "chatexperimental", "chatlite", "multichat",
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
    import assay.tasktypes as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in ("base", "registry", "fields"):
            importlib.import_module(f"assay.tasktypes.{mod.name}")
    _loaded = True


def get_plugin(name: str) -> TaskTypePlugin | None:
    _load()
    return _PLUGINS.get(name)


def plugins() -> dict[str, TaskTypePlugin]:
    _load()
    return dict(_PLUGINS)
