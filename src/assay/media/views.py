"""Previews and tiles of uploaded images, behind the same signed links as the files
themselves (`/api/media/{org}/{file}/…?expires&signature` with the signature of
`/api/files/{org}/{file}`): a link to a file of one organization opens nothing of any
other. No principal: the signature is the authorization (see files/views.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import FileResponse

from assay.db import get_db
from assay.files import service as files
from assay.media import service
from assay.web import JSON, JSONRoute

native = APIRouter(prefix="/api", route_class=JSONRoute)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=3600",
}


def _signed(request: Request, org_id: str, file_id: str):
    """The stored file's path when the link's signature checks out; 404 otherwise."""
    with get_db().read() as session:
        path, _ = files.signed_file(session, org_id, file_id, request.query_params.get("expires"), request.query_params.get("signature"))
    return path


def _image(path) -> FileResponse:
    return FileResponse(path, media_type="image/jpeg" if path.suffix == ".jpg" else "image/png", headers=HEADERS)


@native.get("/media/{org_id}/{file_id}/info")
def image_info(org_id: str, file_id: str, request: Request):
    """Size of the image as shown, and for a large one its preview size and tile size."""
    return JSON(service.info(_signed(request, org_id, file_id)))


@native.get("/media/{org_id}/{file_id}/preview")
def image_preview(org_id: str, file_id: str, request: Request):
    return _image(service.preview(_signed(request, org_id, file_id), org_id, file_id))


@native.get("/media/{org_id}/{file_id}/tiles/{col}/{row}")
def image_tile(org_id: str, file_id: str, col: int, row: int, request: Request):
    return _image(service.tile(_signed(request, org_id, file_id), org_id, file_id, col, row))
