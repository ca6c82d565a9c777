"""Previews and tiles of uploaded images over real HTTP (SQLite and PostgreSQL): behind the
file's own signed link, the sizes as the browser shows the image (EXIF rotation applied),
a preview only for large images, tiles that put the full image back together, nothing
for a bad or another organization's signature; and the service's cache on disk."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from PIL import Image
from scaleapi.tasks import TaskType

from tests import local_http
from tests.vision_support import image_bytes, require_vision


def signed_link(client, project: str, url: str) -> str:
    task = client.create_task(TaskType.ImageAnnotation, project=project, attachment=url,
                              geometries={"box": {"objects_to_annotate": ["thing"]}})
    docs = [t for t in client.tasks(project=project, include_attachment_url=True).docs if t.id == task.id]
    return docs[0].as_dict()["attachment_url"]


def media(link: str, what: str) -> str:
    parts = urlsplit(link)
    org, file_id = parts.path.split("/")[-2:]
    return f"{parts.scheme}://{parts.netloc}/api/media/{org}/{file_id}/{what}?{parts.query}"


@pytest.fixture()
def image_project(client, uniq):
    name = f"images {uniq}"
    client.create_project(project_name=name, task_type=TaskType.ImageAnnotation, params={"instruction": "Boxes."})
    return name


def test_large_image_preview_and_tiles_behind_the_signed_link(server, client, image_project):
    data = image_bytes(2500, 1100, [(2100, 1030, 300, 50)], fmt="JPEG")
    uploaded = client.upload_file(io.BytesIO(data))
    link = signed_link(client, image_project, uploaded.attachment_url)
    info = local_http.get(media(link, "info")).json()
    assert info == {"width": 2500, "height": 1100, "preview": {"width": 2048, "height": 901}, "tile_size": 1024}
    preview = local_http.get(media(link, "preview"))
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(preview.content)).size == (2048, 901)
    # the tiles cover the image: 3 columns × 2 rows, the last ones cut to what is left
    sizes = {}
    for col in range(3):
        for row in range(2):
            r = local_http.get(media(link, f"tiles/{col}/{row}"))
            assert r.status_code == 200, r.text
            sizes[col, row] = Image.open(io.BytesIO(r.content)).size
    assert sizes[0, 0] == (1024, 1024) and sizes[2, 1] == (2500 - 2048, 1100 - 1024)
    corner = Image.open(io.BytesIO(local_http.get(media(link, "tiles/2/1")).content)).convert("RGB")
    assert corner.getpixel((200, 40))[2] > 140  # the blue bar drawn near the bottom right
    assert local_http.get(media(link, "tiles/3/0")).status_code == 404
    # a wrong signature, or none, opens nothing
    assert local_http.get(media(link, "preview").replace("signature=", "signature=0")).status_code == 404
    assert local_http.get(media(link, "info").split("?")[0]).status_code == 404


def test_small_image_has_no_preview_and_exif_rotation_counts(server, client, image_project):
    img = Image.new("RGB", (300, 200), (10, 20, 30))
    exif = img.getexif()
    exif[0x0112] = 6  # shown rotated a quarter turn: 200 × 300
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    link = signed_link(client, image_project, client.upload_file(io.BytesIO(out.getvalue())).attachment_url)
    assert local_http.get(media(link, "info")).json() == {"width": 200, "height": 300, "preview": None, "tile_size": None}


def test_other_organizations_link_opens_nothing(server, client, image_project, uniq):
    other = server.client(server.new_key(f"media-other-{uniq}"))
    other.create_project(project_name="theirs", task_type=TaskType.ImageAnnotation, params={"instruction": "Boxes."})
    theirs = signed_link(other, "theirs", other.upload_file(io.BytesIO(image_bytes(3000, 100, fmt="JPEG"))).attachment_url)
    mine = signed_link(client, image_project, client.upload_file(io.BytesIO(image_bytes(3000, 100, fmt="JPEG"))).attachment_url)
    # their file id under my organization and signature: not found
    their_file = urlsplit(theirs).path.split("/")[-1]
    my_org, my_file = urlsplit(mine).path.split("/")[-2:]
    forged = media(mine, "preview").replace(f"/{my_org}/{my_file}/", f"/{my_org}/{their_file}/")
    assert local_http.get(forged).status_code == 404
    assert local_http.get(media(theirs, "preview")).status_code == 200


def mp4(frames: int = 10, width: int = 160, height: int = 96) -> bytes:
    """A short H.264 clip of a dark square moving 6 px a frame (PyAV)."""
    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for k in range(frames):
            img = np.full((height, width, 3), 220, np.uint8)
            img[30:60, 10 + 6 * k: 40 + 6 * k] = 30
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def test_video_frames_decoded_once_and_tracked(server, client, uniq):
    require_vision("av")
    require_vision("cv2")
    from tests.browser import Org

    name = f"clips {uniq}"
    client.create_project(project_name=name, task_type=TaskType.VideoAnnotation, params={"instruction": "Track it."})
    url = client.upload_file(io.BytesIO(mp4())).attachment_url
    task = client.create_task(TaskType.VideoAnnotation, project=name, attachment=url, geometries={"box": {"objects_to_annotate": ["square"]}})
    docs = [t for t in client.tasks(project=name, include_attachment_url=True).docs if t.id == task.id]
    link = docs[0].as_dict()["attachment_url"]
    info = local_http.get(media(link, "video")).json()
    assert (info["frames"], info["width"], info["height"]) == (10, 160, 96)
    frame = local_http.get(media(link, "frames/9"))
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(frame.content)).size == (160, 96)
    assert local_http.get(media(link, "frames/10")).status_code == 404
    # the tracker runs over the decoded frames of the task's own video
    org = Org(server)
    pid = org.project_id(name)
    annotator = org.person("annotator")
    org.add_member(pid, annotator)
    http = org.login(annotator)
    assignment = http.post(f"/api/projects/{pid}/next", json={}).json()["assignment"]["id"]
    r = http.post(f"/api/assignments/{assignment}/track", json={"box": {"left": 10, "top": 30, "width": 30, "height": 30}, "frame": 0, "frames": 20})
    assert r.status_code == 200, r.text
    boxes = r.json()["boxes"]
    assert len(boxes) == 9 and boxes[-1]["left"] == pytest.approx(10 + 6 * 9, abs=3)
