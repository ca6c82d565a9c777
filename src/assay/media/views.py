"""Media routes. Previews, tiles and video frames of uploaded files sit behind the same
signed links as the files themselves (`/api/media/{org}/{file}/…?expires&signature` with
the signature of `/api/files/{org}/{file}`): a link to a file of one organization opens
nothing of any other, and no principal is needed (the signature is the authorization, see
files/views.py). With object storage they are `307` redirects to presigned links of the
store, where the first request on any machine put them (media/service/derived.py); else
the app sends them from its data directory. The assists (GrabCut, trackers, mask uploads)
work on the task of the caller's own assignment and only on files of the caller's
organization."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import FileResponse, RedirectResponse

from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.errors import NotFound, field_error
from assay.files import service as files
from assay.media import masks
from assay.media.policies import MediaPolicy
from assay.media.schemas import GrabCutBody, MaskBody, TrackBody
from assay.media.service import assists, images, video
from assay.media.service.derived import Media
from assay.queue.service import leases
from assay.tasks.models import Task
from assay.tasks.service import detail
from assay.web import JSON, GridIndex, JSONRoute

native = APIRouter(prefix="/api", route_class=JSONRoute)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=3600",
}


def _signed(request: Request, org_id: str, file_id: str) -> Media:
    """The media of a file whose link's signature checks out (404 otherwise); its bytes
    are read only if something must be made from them."""
    with get_db().read() as session:
        files.signed_row(session, org_id, file_id, request.query_params.get("expires"), request.query_params.get("signature"))
    return Media(org_id, file_id)


def _image(media: Media, name: str, request: Request):
    """A published image: from the data directory, or a redirect to the store."""
    if not media.remote:
        path = media.path(name)
        return FileResponse(path, media_type="image/jpeg" if path.suffix == ".jpg" else "image/png", headers=HEADERS)
    link = media.link(name, files.link_seconds(request.query_params["expires"]))
    return RedirectResponse(link, status_code=307, headers={"Cache-Control": "private, no-store"})


@native.get("/media/{org_id}/{file_id}/info")
def image_info(org_id: str, file_id: str, request: Request):
    """Size of the image as shown, and for a large one its preview size and tile size."""
    return JSON(images.info(_signed(request, org_id, file_id)))


@native.get("/media/{org_id}/{file_id}/preview")
def image_preview(org_id: str, file_id: str, request: Request):
    media = _signed(request, org_id, file_id)
    return _image(media, images.preview(media), request)


@native.get("/media/{org_id}/{file_id}/tiles/{col}/{row}")
def image_tile(org_id: str, file_id: str, col: GridIndex, row: GridIndex, request: Request):
    media = _signed(request, org_id, file_id)
    return _image(media, images.tile(media, col, row), request)


@native.get("/media/{org_id}/{file_id}/video")
def video_info(org_id: str, file_id: str, request: Request):
    """A video's frame cache: {frames, fps, width, height} (decoded on first request)."""
    return JSON(video.decode(_signed(request, org_id, file_id)))


@native.get("/media/{org_id}/{file_id}/frames/{n}")
def video_frame(org_id: str, file_id: str, n: GridIndex, request: Request):
    media = _signed(request, org_id, file_id)
    return _image(media, video.frame(media, n), request)


# ----------------------------------------------------------------------------- assists

def _task_of(session, principal: Principal, assignment_id: str) -> Task:
    """The task of the caller's own assignment (404 for anyone else's)."""
    assignment = leases.my_assignment(session, principal, assignment_id)
    return session.get(Task, assignment.task_id)


def _frames(session, principal: Principal, task: Task):
    """(number of frames, n → path of frame n) of a video task: the images of
    `attachments`, or the decoded frames of the video `attachment`."""
    params = task.params or {}
    if params.get("attachments"):
        urls = params["attachments"]
        return len(urls), lambda n: files.own_file_path(session, principal, urls[n], "attachments")
    media = Media(principal.org_public_id, files.own_file_id(session, principal, params.get("attachment")))
    return video.decode(media)["frames"], lambda n: video.frame_path(media, n)


@native.post("/assignments/{assignment_id}/grabcut")
def grabcut_assist(assignment_id: str, body: GrabCutBody, principal: Principal = Depends(authenticate)):
    """Box → mask: the object's pixels inside the box (row-major runs over the box)."""
    authorize(principal, MediaPolicy.assist)
    with get_db().read() as session:
        task = _task_of(session, principal, assignment_id)
        path = files.own_file_path(session, principal, (task.params or {}).get("attachment"))
    return JSON(assists.grabcut(video.frame_array(path), body.box.model_dump(), body.iterations))


@native.post("/assignments/{assignment_id}/track")
def track_assist(assignment_id: str, body: TrackBody, principal: Principal = Depends(authenticate)):
    """The box on `frame` followed through the next `frames` frames by an OpenCV tracker:
    {"boxes": [box or null, …]} for frames frame+1 …"""
    authorize(principal, MediaPolicy.assist)
    with get_db().read() as session:
        task = _task_of(session, principal, assignment_id)
        count, source = _frames(session, principal, task)
        if body.frame >= count - 1:
            raise field_error("frame", f"must be before the last frame ({count - 1})")
        last = min(count - 1, body.frame + body.frames)
        frames = [video.frame_array(source(n)) for n in range(body.frame, last + 1)]
    return JSON({"first_frame": body.frame + 1, "boxes": assists.track(frames, body.box.model_dump(), body.method)})


@native.post("/assignments/{assignment_id}/masks")
def upload_mask(assignment_id: str, body: MaskBody, principal: Principal = Depends(authenticate)):
    """A painted mask → the PNG files Scale answers with (files of the caller's
    organization) and the segmentation response that names them."""
    authorize(principal, MediaPolicy.assist)
    mask = masks.runs_to_mask(body.width, body.height, body.runs)
    with get_db().write() as session:
        task = _task_of(session, principal, assignment_id)
        if task.type != "segmentannotation":
            raise field_error("assignment_id", "masks are for segmentannotation tasks")
        params = task.params or {}
        response = masks.mask_answer(mask, [item.model_dump() for item in body.labels], set(params.get("instance_labels") or []),
                                     bool(params.get("allow_unlabeled")), lambda name, data: files.store_bytes(session, principal, data, name, "image/png"))
    return JSON(response)


@native.get("/tasks/{task_id}/masks")
def task_masks(task_id: str, principal: Principal = Depends(authenticate)):
    """The COCO run-length encoding of each label's mask in a segmentation task's answer."""
    authorize(principal, MediaPolicy.read_masks)
    with get_db().read() as session:
        task = detail.load_task(session, principal, task_id)
        response = task.response or {}
        indexed = ((response.get("annotations") or {}).get("combined") or {}).get("indexedImage")
        if task.type != "segmentannotation" or not indexed:
            raise NotFound("This task has no segmentation answer yet.", field="task_id")
        path = files.own_file_path(session, principal, indexed, "response")
    return JSON({"task_id": task.public_id, "masks": masks.label_rles(masks.read_indexed(path.read_bytes()), response.get("labelMapping") or {})})
