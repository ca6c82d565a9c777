"""Flat rows for training tables (CSV and Parquet): the task's inputs as `input.<param>`
columns, one `answer.<field>` column per answer field of its type, the confidence and the
number of labelers — and the whole response as JSON, so nothing is lost when an answer
has no flat form (spans, shapes).

The columns are those of the first page of rows (a table has one header); a later task
with a field the first page never had keeps it in `response`."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterator

import orjson

from assay.exports.formats.base import Context, Format, Pages, answer_of, confidence_of, labels_of

BASE_COLUMNS = ("task_id", "status", "kind", "created_at", "completed_at", "batch", "unique_id")
TAIL_COLUMNS = ("response", "confidence", "labels", "method", "auto_accepted", "metadata")
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def scalar(value: Any) -> Any:
    """A table cell: strings, numbers and booleans as they are, anything else as JSON."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return json_text(value)


def _joined(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else "|".join(str(v) for v in values)


def answer_fields(task_type: str, params: dict[str, Any], response: dict[str, Any] | None) -> dict[str, Any]:
    """The flat answer of one task, `answer.<field>` → a cell."""
    if not response:
        return {}
    out: dict[str, Any] = {}
    if task_type == "categorization":
        category = response.get("category")
        out["answer.category"] = _joined(category) if isinstance(category, list) else category
    elif task_type == "comparison":
        if "choice" in response:
            out["answer.choice"] = response["choice"]
        for name, value in (response.get("fields") or {}).items():
            out[f"answer.{name}"] = scalar(value)
    elif task_type == "textcollection":
        for field_id, answer in (response.get("annotations") or {}).items():
            values = (answer or {}).get("response") or []
            out[f"answer.{field_id}"] = _joined(values[0]) if len(values) == 1 and values[0] else scalar(values)
    elif task_type == "chat":
        out.update(_chat_fields(response))
    elif task_type == "audiotranscription":
        out["answer.transcript"] = response.get("transcript")
    return out


def _chat_fields(response: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "preference" in response:
        out["answer.winner"] = response["preference"].get("winner")
        out["answer.strength"] = response["preference"].get("strength")
    if "ranking" in response:
        out["answer.ranking"] = "|".join(response["ranking"])
    for rid, scores in (response.get("scores") or {}).items():
        for criterion, cell in scores.items():
            out[f"answer.{rid}.{criterion}"] = cell.get("score") if isinstance(cell, dict) else cell
    if "ideal_response" in response:
        out["answer.ideal_response"] = response["ideal_response"]
    return out


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    params = row.get("params") or {}
    quality = row.get("quality") or {}
    response = answer_of(row)
    flat: dict[str, Any] = {
        "task_id": row["task_id"], "status": row["status"], "kind": row.get("kind", "task"), "created_at": row.get("created_at"),
        "completed_at": row.get("completed_at"), "batch": row.get("batch"), "unique_id": row.get("unique_id"),
    }
    for key, value in params.items():
        if key != "hypothesis":
            flat[f"input.{key}"] = scalar(value)
    flat.update(answer_fields(row.get("type", ""), params, response))
    flat.update({"response": json_text(response) if response is not None else None, "confidence": confidence_of(row),
                 "labels": labels_of(row), "method": quality.get("method"), "auto_accepted": bool(quality.get("auto_accepted")),
                 "metadata": json_text(row.get("metadata") or {})})
    return flat


def columns_of(first: list[dict[str, Any]]) -> list[str]:
    """Base columns, then the inputs and answer fields in order of first appearance."""
    middle: dict[str, None] = {}
    for flat in first:
        for key in flat:
            if key.startswith(("input.", "answer.")):
                middle.setdefault(key)
    inputs = [k for k in middle if k.startswith("input.")]
    answers = [k for k in middle if k.startswith("answer.")]
    return [*BASE_COLUMNS, *inputs, *answers, *TAIL_COLUMNS]


def csv_cell(value: Any) -> Any:
    """CSV cells are data, never formulas: a text cell that a spreadsheet would evaluate
    gets a leading apostrophe (OWASP's advice for CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def write_csv(pages: Pages, context: Context) -> Iterator[bytes]:
    columns: list[str] | None = None
    buf = io.StringIO()
    writer = csv.writer(buf)
    for page in pages:
        flat = [flatten(row) for row in page]
        if columns is None:
            columns = columns_of(flat)
            writer.writerow(columns)
        for item in flat:
            writer.writerow([csv_cell(item.get(c)) for c in columns])
        yield buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()
    if columns is None:
        yield (",".join((*BASE_COLUMNS, *TAIL_COLUMNS)) + "\r\n").encode()


CSV = Format("csv", "CSV (flat, one column per answer field)", "csv", "text/csv; charset=utf-8", write=write_csv)
