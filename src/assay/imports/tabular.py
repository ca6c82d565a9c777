"""CSV, JSON lines and JSON: one task per row or object. Each key (column) is a task
setting (`metadata`, `unique_id`, `tags`, `priority`, `instruction`, `metadata.<key>`) or
a param of the task type; `mapping` renames keys first ({"review": "attachment"}). A few
names are understood per type (`text` for a categorization's attachment, `label` or
`category` for an existing answer); `response` (or `annotations`) carries an existing answer
in the type's response form. CSV cells holding JSON (starting with `{` or `[`) are parsed."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from assay.imports.rows import ImportError_, Parsed, Row, RowError
from assay.imports.text import from_tokens

SETTINGS = {"instruction", "callback_url", "metadata", "unique_id", "clear_unique_id_on_error", "tags", "priority"}
LABEL_KEYS = ("response", "label", "category", "annotations", "spans")


def parse_csv(data: bytes, task_type: str, mapping: dict[str, str]) -> Parsed:
    out = Parsed("csv")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportError_(f"file: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    out.columns = list(reader.fieldnames or [])
    if not out.columns:
        raise ImportError_("file: the CSV has no header row")
    line = reader.line_num
    for record in reader:
        start = line + 1
        line = reader.line_num
        if None in record:
            out.errors.append(RowError(start, "row", f"{len(record[None])} more cells than the header has columns"))
            continue
        values: dict[str, Any] = {}
        bad = False
        for key, cell in record.items():
            if cell is None or cell == "":
                continue
            if cell[:1] in "{[":
                try:
                    cell = orjson.loads(cell)
                except orjson.JSONDecodeError as exc:
                    out.errors.append(RowError(start, mapping.get(key, key), f"is not valid JSON ({exc})"))
                    bad = True
            values[key] = _typed(mapping.get(key, key), cell)
        if not bad:
            _add(out, start, values, task_type, mapping)
    return out


INTEGER_CELLS = ("priority",)
BOOLEAN_CELLS = ("clear_unique_id_on_error", "allow_multiple", "allow_overlap", "allow_ties", "segments", "verbatim")


def _typed(key: str, cell: Any) -> Any:
    """CSV cells are text: the settings and params that take a number or a boolean get one
    when the cell reads as one (anything else stays text, and validation names it)."""
    if isinstance(cell, str):
        if key in INTEGER_CELLS and cell.strip().lstrip("-").isdigit():
            return int(cell)
        if key in BOOLEAN_CELLS and cell.strip().lower() in ("true", "false"):
            return cell.strip().lower() == "true"
    return cell


def parse_jsonl(data: bytes, task_type: str, mapping: dict[str, str]) -> Parsed:
    out = Parsed("jsonl")
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            item = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            out.errors.append(RowError(number, "line", f"is not valid JSON ({exc})"))
            continue
        if not isinstance(item, dict):
            out.errors.append(RowError(number, "line", "must be a JSON object"))
            continue
        _add(out, number, item, task_type, mapping)
    return out


def parse_json(data: bytes, task_type: str, mapping: dict[str, str]) -> Parsed:
    """A JSON array of task objects, or {"tasks": [...]}; `line` is the item's number."""
    out = Parsed("json")
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ImportError_(f"file: not valid JSON ({exc})") from None
    items = document.get("tasks") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ImportError_("file: expected a JSON array of tasks, or an object with a 'tasks' array")
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            _add(out, number, item, task_type, mapping)
        else:
            out.errors.append(RowError(number, "item", "must be a JSON object"))
    return out


def _add(out: Parsed, line: int, values: dict[str, Any], task_type: str, mapping: dict[str, str]) -> None:
    body: dict[str, Any] = {}
    label: Any = None
    for key, value in values.items():
        key = mapping.get(key, key)
        if key in ("project", "batch", "task_id"):
            continue
        if key.startswith("metadata."):
            body.setdefault("metadata", {})
            if isinstance(body["metadata"], dict):
                body["metadata"][key[len("metadata."):]] = value
        elif key in LABEL_KEYS:
            label = _label(task_type, key, value, label)
        else:
            body[key] = value
    _type_defaults(task_type, body)
    if task_type == "namedentityrecognition" and "tokens" in values and "tags" in values:
        try:
            text, spans, tokens = from_tokens(values["tokens"], values["tags"])
        except ValueError as exc:
            out.errors.append(RowError(line, "tokens", str(exc)))
            return
        body.pop("tokens", None)
        body.pop("tags", None)
        body["text"] = text
        body.setdefault("metadata", {})["tokens"] = tokens
        label = {"annotations": spans}
    out.rows.append(Row(line, body, label if isinstance(label, dict) else None))


def _label(task_type: str, key: str, value: Any, current: Any) -> Any:
    """An existing answer from a `response`, `label`/`category` or `annotations` key."""
    if key == "response":
        return value
    if key in ("label", "category") and task_type == "categorization":
        return {"category": value}
    if key in ("annotations", "spans"):
        return {"annotations": value}
    return current if current is not None else {key: value}


def _type_defaults(task_type: str, body: dict[str, Any]) -> None:
    """The obvious names per type: a text column is a categorization's text attachment,
    an image/url column an image task's attachment."""
    if task_type == "categorization" and "attachment" not in body and "text" in body:
        body["attachment"] = body.pop("text")
        body.setdefault("attachment_type", "text")
    if task_type in ("imageannotation", "segmentannotation") and "attachment" not in body:
        for key in ("image", "url", "image_url"):
            if key in body:
                body["attachment"] = body.pop(key)
                break
