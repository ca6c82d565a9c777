"""A write-only byte sink that hands out what was written so far: lets writers that want
a file (zipfile, pyarrow's ParquetWriter) stream their output page by page."""

from __future__ import annotations

import io


class Sink(io.RawIOBase):
    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def seek(self, *args) -> int:
        raise OSError("not seekable")

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out
