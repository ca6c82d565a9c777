"""Zip archives streamed as they are written: a format's `(path, bytes)` members, plus
warnings.txt when a format had to leave something out."""

from __future__ import annotations

import zipfile
from typing import Iterable, Iterator

from assay.exports.formats.base import Context
from assay.exports.formats.sink import Sink

# already-compressed members (images, masks, Parquet) are stored, not deflated again
STORED = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".parquet", ".arrow", ".spacy", ".zip")


def zip_stream(members: Iterable[tuple[str, bytes]], context: Context) -> Iterator[bytes]:
    sink = Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as archive:
        for path, data in members:
            compress = zipfile.ZIP_STORED if path.lower().endswith(STORED) else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), data, compress_type=compress)
            yield sink.drain()
        if context.warnings:
            archive.writestr("warnings.txt", "\n".join(context.warnings) + "\n")
    yield sink.drain()
