"""Uploads as files: what a zip holds, and the format of an upload (from its name or
content). A zip of media alone makes one task per image (or audio, video, document)."""

from __future__ import annotations

import posixpath
import zipfile
from io import BytesIO
from typing import Any

from assay.imports import tabular, text, vision
from assay.imports.rows import ImportError_, Parsed, Row

FORMATS = ("csv", "jsonl", "json", "coco", "yolo", "conll", "media")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
MEDIA_EXTENSIONS = IMAGE_EXTENSIONS + (".mp3", ".wav", ".ogg", ".flac", ".m4a", ".mp4", ".webm", ".pdf")
MAX_MEMBERS = 20_000


def unzip(data: bytes, limit: int) -> dict[str, bytes]:
    """The files of a zip (folders flattened to their paths; hidden and macOS metadata
    files skipped), refusing more than `limit` bytes unpacked (zip bombs)."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportError_("file: not a zip archive") from None
    members = [m for m in archive.infolist() if not m.is_dir() and not _hidden(m.filename)]
    if len(members) > MAX_MEMBERS:
        raise ImportError_(f"file: more than {MAX_MEMBERS} files in the zip")
    if sum(m.file_size for m in members) > limit:
        raise ImportError_(f"file: unpacks to more than the {limit}-byte upload limit")
    return {m.filename: archive.read(m) for m in members}


def _hidden(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in name.split("/"))


def guess_format(filename: str, data: bytes) -> str:
    lower = filename.lower()
    for extension, name in ((".csv", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"), (".conll", "conll"), (".txt", "conll")):
        if lower.endswith(extension):
            return name
    if lower.endswith(".json"):
        head = data[:4096]
        return "coco" if b'"images"' in head or b'"annotations"' in head else "json"
    if lower.endswith(".zip"):
        return "zip"
    raise ImportError_("format: cannot tell the format from the file name; give format (" + ", ".join(FORMATS) + ")", field="format")


def parse(filename: str, data: bytes, fmt: str | None, task_type: str, mapping: dict[str, str], base_url: str | None, limit: int) -> Parsed:
    """Any upload → Parsed. A zip holds a COCO JSON, a YOLO dataset or media alone."""
    fmt = fmt or guess_format(filename, data)
    if fmt == "csv":
        return tabular.parse_csv(data, task_type, mapping)
    if fmt == "jsonl":
        return tabular.parse_jsonl(data, task_type, mapping)
    if fmt == "json":
        return tabular.parse_json(data, task_type, mapping)
    if fmt == "conll":
        return text.parse_conll(data)
    if fmt == "coco" and not filename.lower().endswith(".zip"):
        return vision.parse_coco(data, {}, base_url)
    files = unzip(data, limit)
    documents = [n for n in files if n.lower().endswith(".json")]
    if fmt in ("coco", "zip") and documents:
        return vision.parse_coco(files.pop(documents[0]), files, base_url)
    if fmt in ("yolo", "zip") and any(posixpath.basename(n) in ("data.yaml", "dataset.yaml") for n in files):
        return vision.parse_yolo(files)
    if fmt in ("media", "zip"):
        return media_tasks(files, task_type)
    raise ImportError_(f"file: a {fmt} upload must be a {fmt} file or a zip holding one", field="format")


def media_tasks(files: dict[str, bytes], task_type: str) -> Parsed:
    """One task per media file; the attachment is the stored file."""
    out = media_rows(list(files), task_type)
    out.media = {row.media: files[row.media] for row in out.rows}
    if not out.rows:
        raise ImportError_("file: the zip holds no media files (" + ", ".join(MEDIA_EXTENSIONS) + ")")
    return out


def media_rows(names: list[str], task_type: str) -> Parsed:
    """One row per media file name (in name order; other names left out), each naming its
    file as `media` and the name in `metadata.file_name`."""
    out = Parsed("media")
    for number, name in enumerate(sorted(n for n in names if n.lower().endswith(MEDIA_EXTENSIONS) and not _hidden(n)), start=1):
        body: dict[str, Any] = {"attachment": None, "metadata": {"file_name": name}}
        if task_type in ("imageannotation", "segmentannotation", "categorization"):
            body["attachment_type"] = "image" if name.lower().endswith(IMAGE_EXTENSIONS) else _kind(name)
        out.rows.append(Row(number, body, None, media=name))
    return out


def _kind(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".pdf"):
        return "pdf"
    if lower.endswith((".mp4", ".webm")):
        return "video"
    return "audio"
