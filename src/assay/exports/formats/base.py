"""What every format module shares: the context a writer gets (the project, the media
it may read, the options), the answer a row carries, and the format's description.

A format is a pure function from pages of export rows (`/v1` task JSON) to bytes: a
stream (`write`) for a single file, or `(path, bytes)` members (`files`) for a zip. No
format touches the database or the network; media come through `Media`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol

Page = list[dict[str, Any]]
Pages = Iterable[Page]


class Media(Protocol):
    """The images (and masks) a vision export may read: uploaded files only; an http(s)
    URL is never fetched at export time."""

    def read(self, url: str) -> bytes | None: ...

    def size(self, url: str) -> tuple[int, int] | None: ...


class NoMedia:
    def read(self, url: str) -> bytes | None:
        return None

    def size(self, url: str) -> tuple[int, int] | None:
        return None


@dataclass
class Context:
    project_name: str
    task_type: str
    project_params: dict[str, Any] = field(default_factory=dict)
    media: Media = field(default_factory=NoMedia)
    with_media: bool = False
    # what a format could not write, by task (a zip carries it as warnings.txt)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Format:
    name: str
    title: str
    extension: str
    media_type: str
    task_types: tuple[str, ...] | None = None  # None: every type
    write: Callable[[Pages, Context], Iterator[bytes]] | None = None
    files: Callable[[Pages, Context], Iterator[tuple[str, bytes]]] | None = None
    needs: str | None = None  # an optional library the format needs ("spacy")
    # rows may carry JSON values as orjson Fragments: the writer only serializes them
    raw: bool = False

    def zipped(self, with_media: bool) -> bool:
        """Several files (or the media asked for) make a zip."""
        return self.files is not None and (self.write is None or with_media)

    def file_extension(self, with_media: bool) -> str:
        return "zip" if self.zipped(with_media) else self.extension

    def file_media_type(self, with_media: bool) -> str:
        return "application/zip" if self.zipped(with_media) else self.media_type

    def json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "extension": self.extension, "task_types": list(self.task_types or []),
                "needs": self.needs}


def answer_of(row: dict[str, Any]) -> dict[str, Any] | None:
    """The label a row carries: the consolidated response, or a gold item's expected one."""
    response = row.get("response")
    if response is None and row.get("kind") not in (None, "task"):
        response = row.get("expected_response")
    return response if isinstance(response, dict) else None


def confidence_of(row: dict[str, Any]) -> float | None:
    if row.get("kind") not in (None, "task"):
        return 1.0  # gold: the expected answer is known
    value = (row.get("quality") or {}).get("confidence")
    return float(value) if isinstance(value, (int, float)) else None


def labels_of(row: dict[str, Any]) -> int:
    value = (row.get("quality") or {}).get("labels")
    return int(value) if isinstance(value, int) else 0


def rows_of(pages: Pages) -> Iterator[dict[str, Any]]:
    for page in pages:
        yield from page
