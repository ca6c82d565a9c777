"""JSON lines: one `/v1` task per line (consolidated response, `quality` with the
confidence, and each labeler's answer under `answers` when asked)."""

from __future__ import annotations

from typing import Iterator

import orjson

from assay.exports.formats.base import Context, Format, Pages


def write(pages: Pages, context: Context) -> Iterator[bytes]:
    dumps = orjson.dumps
    for page in pages:
        if page:
            yield b"\n".join(map(dumps, page)) + b"\n"


FORMAT = Format("jsonl", "JSON lines (/v1 tasks)", "jsonl", "application/x-ndjson", write=write, raw=True)
