"""Task types as plug-ins behind one registry (see base.py for the interface)."""

from assay.tasktypes.registry import SCALE_TYPES_NOT_ENABLED, check_task_type, get_plugin, plugins  # noqa: F401
