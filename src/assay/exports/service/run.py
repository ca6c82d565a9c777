"""Running an export: the format checked against the project, the rows read set-based
(query.py), written by the format's pure function, and streamed (a zip for formats made
of several files). A progress callback sees each page."""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterator

from sqlalchemy.engine import Connection

from assay.errors import field_error
from assay.exports.formats import FORMATS
from assay.exports.formats.archive import zip_stream
from assay.exports.formats.base import Context, Format, Page
from assay.exports.schemas import ExportRequest
from assay.exports.service import query
from assay.files.stored import local_path
from assay.projects.models import Project

Progress = Callable[[int], None]


def check_format(project: Project, request: ExportRequest) -> Format:
    """The format asked for, if it fits the project's task type (400 naming `format`)."""
    fmt = FORMATS.get(request.format)
    if fmt is None:
        raise field_error("format", f"must be one of {', '.join(FORMATS)}")
    if fmt.task_types and project.type not in fmt.task_types:
        raise field_error("format", f"{fmt.name} is for {', '.join(fmt.task_types)} projects; this project is {project.type}")
    if fmt.needs and not _installed(fmt.needs):
        raise field_error("format", f"{fmt.name} needs the {fmt.needs} package on the server (pip install 'assay[formats]')")
    if request.answers and fmt.name != "jsonl":
        raise field_error("answers", "each labeler's answer is exported in JSON lines only")
    return fmt


@lru_cache(maxsize=8)
def _installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


class LocalMedia:
    """Images and masks uploaded to this organization (scaledata://), read from disk; an
    http(s) URL is never fetched at export time."""

    def __init__(self, org_public_id: str):
        self.org_public_id = org_public_id
        self._sizes: dict[str, tuple[int, int] | None] = {}

    def read(self, url: str) -> bytes | None:
        path = local_path(url, self.org_public_id) if isinstance(url, str) else None
        return path.read_bytes() if path is not None else None

    def size(self, url: str) -> tuple[int, int] | None:
        if url not in self._sizes:
            self._sizes[url] = _image_size(local_path(url, self.org_public_id)) if isinstance(url, str) else None
        return self._sizes[url]


def _image_size(path) -> tuple[int, int] | None:
    if path is None:
        return None
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 - Pillow loads when a vision export reads an image

    try:
        with Image.open(path) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return None


def context_for(project: Project, org_public_id: str, request: ExportRequest) -> Context:
    return Context(project_name=project.name, task_type=project.type, project_params=project.current_params,
                   media=LocalMedia(org_public_id), with_media=request.media)


def pages(conn: Connection, scope: query.Scope, fmt: Format, progress: Progress | None = None) -> Iterator[Page]:
    for page in query.rows(conn, scope, raw=fmt.raw):
        if progress is not None:
            progress(len(page))
        yield page


def chunks(fmt: Format, page_iter: Iterator[Page], context: Context) -> Iterator[bytes]:
    """The export's bytes: the format's stream, or its members in a zip."""
    if fmt.zipped(context.with_media):
        yield from zip_stream(fmt.files(page_iter, context), context)
    else:
        yield from fmt.write(page_iter, context)


def empty_note(conn: Connection, project: Project, is_test: bool, request: ExportRequest) -> str | None:
    """Why an export with no task in it is empty, when the other mode has tasks: a live
    key exporting a project whose tasks were all made with test keys, or the reverse."""
    other = query.scope(conn, project, not is_test, request.model_copy(update={"include_test": False}))
    if query.count(conn, other) == 0:
        return None
    if is_test:
        return "no test tasks match; this project's other tasks were made with live keys, which a test key cannot export"
    return "no live tasks match; this project's tasks were made with test keys: export with include_test=true or with a test key"


def filename(project: Project, fmt: Format, request: ExportRequest) -> str:
    return f"{project.name}.{fmt.file_extension(request.media)}"
