"""Task row → Scale v1 JSON. Rows come from tasks/queries.task_select() (column names,
plus project_name and batch_name)."""

from __future__ import annotations

from typing import Any, Mapping

from assay.timeutil import iso

# Keys Scale omits when empty/unset (the official client's tests assert their absence).
_OPTIONAL = ("response", "callback_succeeded", "unique_id", "tags", "priority", "customer_review_status", "quality")


def task_json(row: Mapping[str, Any], attachment_url: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "task_id": row["public_id"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "type": row["type"],
        "status": row["status"],
        "instruction": row["instruction"],
        "params": row["params"],
        "callback_url": row["callback_url"] or "",
        "is_test": row["is_test"],
        "urgency": "standard",
        "metadata": row["metadata"] if row["metadata"] is not None else {},
        "processed_attachments": [],
        "audits": row["audits"] or [],
        "project": row["project_name"],
    }
    if row["batch_name"] is not None:
        out["batch"] = row["batch_name"]
    if row["completed_at"] is not None:
        out["completed_at"] = iso(row["completed_at"])
    for key in _OPTIONAL:
        if row[key] is not None:
            out[key] = row[key]
    if "quality" in out and "contributors" in out["quality"]:
        # who agreed is the team's business: the native task detail shows it, /v1 does not
        out["quality"] = {k: v for k, v in out["quality"].items() if k != "contributors"}
    if attachment_url is not None:
        out["attachment_url"] = attachment_url
    return out


def limited_task_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"task_id": row["public_id"], "status": row["status"], "metadata": row["metadata"] or {}, "project": row["project_name"]}
