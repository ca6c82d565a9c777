"""Previews, tiles and video frames with object storage (ASSAY_STORAGE_URL=s3://…) against a
real S3 server (SeaweedFS, the `s3_server` fixture), on SQLite and PostgreSQL: made once,
by the first process asked, into the bucket under media/<org>/<file>/, and served by
presigned links of the store (307, never through the app) by any process — a second server
with its own data directory serves them without the original and without rewriting an
object. Another organization's link opens nothing; a file whose original is gone before
anything was made from it gives a 404 naming it (one over the upload limit, a 400). Two
servers asked for the same media at the same moment leave one consistent set."""

from __future__ import annotations

import io
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from scaleapi.tasks import TaskType

from tests import local_http
from tests.browser import Org
from tests.support import Server, create_pg_database, drop_pg_database
from tests.test_media import media, mp4, signed_link
from tests.vision_support import image_bytes, require_vision

PREFIX = "pre/fix"  # the key prefix of s3_server.env()


@dataclass
class Machines:
    """App servers on one database and one bucket, each with its own data directory."""
    tmp_path: object
    env: dict
    database_url: str
    backend: str
    started: list = field(default_factory=list)

    def start(self) -> Server:
        """Another app process. On SQLite, which allows one, the previous one stops first."""
        if self.backend == "sqlite" and self.started:
            self.started[-1].stop()
        first = self.started[0] if self.started else None
        srv = Server(data_dir=self.tmp_path / f"machine{len(self.started)}", database_url=self.database_url, env_overrides=self.env)
        if first is not None:
            srv.live_key, srv.test_key, srv.password = first.live_key, first.test_key, first.password
        self.started.append(srv.start())
        return srv


@contextmanager
def machines(tmp_path, s3_server, backend):
    bucket = s3_server.bucket()
    url = create_pg_database() if backend == "postgres" else f"sqlite:///{tmp_path / 'shared.db'}"
    env = {**s3_server.env(bucket, PREFIX), "ASSAY_SECRET_KEY": "media-storage-test-secret", "ASSAY_PRESIGN_SECONDS": "120"}
    group = Machines(tmp_path, env, url, backend)
    try:
        yield group, bucket
    finally:
        for srv in group.started:
            srv.stop()
        if backend == "postgres":
            drop_pg_database(url)


def objects(s3_server, bucket: str, prefix: str) -> dict[str, tuple[str, object]]:
    """key → (ETag, LastModified) of the bucket's objects under `prefix`."""
    found = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: (o["ETag"], o["LastModified"]) for o in found}


def from_store(s3_server, url: str) -> httpx.Response:
    """A media URL of the app → its 307 → the store's answer (a generous timeout: the first
    request makes the media, on a machine that may be busy)."""
    r = get(url)
    assert r.status_code == 307, r.text
    assert r.headers["location"].startswith(s3_server.endpoint) and r.headers["cache-control"] == "private, no-store"
    got = local_http.get(r.headers["location"], timeout=120)
    assert got.status_code == 200, got.text
    return got


def get(url: str) -> httpx.Response:
    """The app's own answer (no redirect followed), with the same generous timeout."""
    return local_http.get(url, follow_redirects=False, timeout=120)


def ids(attachment_url: str) -> tuple[str, str]:
    org, file_id = attachment_url.removeprefix("scaledata://").split("/")
    return org, file_id


def local_media(srv: Server) -> list:
    return [p for p in (srv.data_dir / "media").rglob("*") if p.is_file()] if (srv.data_dir / "media").exists() else []


def test_image_media_made_once_in_the_bucket_and_served_by_any_process(tmp_path, s3_server, backend):
    with machines(tmp_path, s3_server, backend) as (group, bucket):
        one = group.start()
        client = one.client()
        client.create_project(project_name="pics", task_type=TaskType.ImageAnnotation, params={"instruction": "Boxes."})
        uploaded = client.upload_file(io.BytesIO(image_bytes(2500, 1100, [(2100, 1030, 300, 50)], fmt="JPEG")))
        org, file_id = ids(uploaded.attachment_url)
        link = signed_link(client, "pics", uploaded.attachment_url)
        other = one.client(one.new_key("media-storage-other"))
        other.create_project(project_name="theirs", task_type=TaskType.ImageAnnotation, params={"instruction": "Boxes."})
        theirs = signed_link(other, "theirs", other.upload_file(io.BytesIO(image_bytes(3000, 100, fmt="JPEG"))).attachment_url)

        info = {"width": 2500, "height": 1100, "preview": {"width": 2048, "height": 901}, "tile_size": 1024}
        assert get(media(link, "info")).json() == info
        preview = from_store(s3_server, media(link, "preview"))
        assert preview.headers["content-type"] == "image/jpeg" and preview.headers["content-disposition"].startswith("inline;")
        assert Image.open(io.BytesIO(preview.content)).size == (2048, 901)
        tiles = {(c, r): from_store(s3_server, media(link, f"tiles/{c}/{r}")).content for c in range(3) for r in range(2)}
        assert Image.open(io.BytesIO(tiles[2, 1])).size == (2500 - 2048, 1100 - 1024)
        assert Image.open(io.BytesIO(tiles[2, 1])).convert("RGB").getpixel((200, 40))[2] > 140  # the blue bar
        assert get(media(link, "tiles/3/0")).status_code == 404

        folder = f"{PREFIX}/media/{org}/{file_id}/"
        made = objects(s3_server, bucket, folder)
        assert set(made) == {folder + name for name in ["image.json", "preview.jpg", "tiles/complete",
                                                         *(f"tiles/{c}_{r}.jpg" for c in range(3) for r in range(2))]}
        # nothing needs the original any more: take it out of the bucket
        s3_server.client().delete_object(Bucket=bucket, Key=f"{PREFIX}/files/{org}/{file_id}")

        two = group.start()
        link = link.replace(one.url, two.url)
        assert get(media(link, "info")).json() == info
        assert from_store(s3_server, media(link, "preview")).content == preview.content
        assert {(c, r): from_store(s3_server, media(link, f"tiles/{c}/{r}")).content for c in range(3) for r in range(2)} == tiles
        assert objects(s3_server, bucket, folder) == made  # not one object written again
        assert local_media(two) == [] and not (two.data_dir / "files" / org / file_id).exists()

        # another organization's signature opens none of it: its link with this file's id, or its own org with this file
        their_org, their_file = urlsplit(theirs).path.split("/")[-2:]
        for forged in (media(theirs, "preview").replace(f"/{their_file}/", f"/{file_id}/"),
                       media(theirs, "tiles/0/0").replace(f"/{their_org}/{their_file}/", f"/{their_org}/{file_id}/"),
                       media(link, "preview").replace(f"/{org}/{file_id}/", f"/{their_org}/{file_id}/")):
            r = get(forged.replace(one.url, two.url))
            assert r.status_code == 404 and "location" not in r.headers, r.text
        assert objects(s3_server, bucket, f"{PREFIX}/media/{their_org}/") == {}  # and nothing was made for it


def test_missing_or_oversized_original_is_an_error_naming_the_file(tmp_path, s3_server, backend):
    with machines(tmp_path, s3_server, backend) as (group, bucket):
        group.env["ASSAY_MAX_UPLOAD_BYTES"] = "200000"
        one = group.start()
        client = one.client()
        client.create_project(project_name="pics", task_type=TaskType.ImageAnnotation, params={"instruction": "Boxes."})
        uploaded = client.upload_file(io.BytesIO(image_bytes(3000, 200, fmt="JPEG")))
        org, file_id = ids(uploaded.attachment_url)
        link = signed_link(client, "pics", uploaded.attachment_url)
        s3_server.client().delete_object(Bucket=bucket, Key=f"{PREFIX}/files/{org}/{file_id}")
        (one.data_dir / "files" / org / file_id).unlink()  # this machine's cached copy
        for what in ("info", "preview", "tiles/0/0"):
            r = get(media(link, what))
            assert r.status_code == 404, r.text
            body = r.json()
            assert body["field"] == "file_id" and "original is missing" in body["error"]
        # an original larger than the upload limit (say, the limit was lowered since) is not fetched
        uploaded = client.upload_file(io.BytesIO(image_bytes(3000, 200, fmt="JPEG")))
        org, file_id = ids(uploaded.attachment_url)
        link = signed_link(client, "pics", uploaded.attachment_url)
        s3_server.client().put_object(Bucket=bucket, Key=f"{PREFIX}/files/{org}/{file_id}", Body=image_bytes(3000, 200, fmt="PNG") + b"\0" * 200_000)
        (one.data_dir / "files" / org / file_id).unlink()
        r = get(media(link, "preview"))
        assert r.status_code == 400 and r.json()["field"] == "file_id" and "upload limit" in r.json()["error"], r.text
        assert not (one.data_dir / "files" / org / file_id).exists()
        assert objects(s3_server, bucket, f"{PREFIX}/media/") == {}


def test_video_frames_decoded_once_and_tracked_on_another_process(tmp_path, s3_server, backend):
    require_vision("av")
    require_vision("cv2")
    with machines(tmp_path, s3_server, backend) as (group, bucket):
        one = group.start()
        client = one.client()
        client.create_project(project_name="clips", task_type=TaskType.VideoAnnotation, params={"instruction": "Track it."})
        url = client.upload_file(io.BytesIO(mp4())).attachment_url
        org, file_id = ids(url)
        task = client.create_task(TaskType.VideoAnnotation, project="clips", attachment=url, geometries={"box": {"objects_to_annotate": ["square"]}})
        link = next(t.as_dict()["attachment_url"] for t in client.tasks(project="clips", include_attachment_url=True).docs if t.id == task.id)
        index = get(media(link, "video")).json()
        assert (index["frames"], index["width"], index["height"]) == (10, 160, 96)
        frame = from_store(s3_server, media(link, "frames/9"))
        assert frame.headers["content-type"] == "image/jpeg" and Image.open(io.BytesIO(frame.content)).size == (160, 96)
        folder = f"{PREFIX}/media/{org}/{file_id}/"
        made = objects(s3_server, bucket, folder)
        assert set(made) == {folder + "frames/index.json", *(f"{folder}frames/{n}.jpg" for n in range(10))}
        s3_server.client().delete_object(Bucket=bucket, Key=f"{PREFIX}/files/{org}/{file_id}")

        two = group.start()
        link = link.replace(one.url, two.url)
        assert get(media(link, "video")).json() == index
        assert from_store(s3_server, media(link, "frames/9")).content == frame.content
        assert get(media(link, "frames/10")).status_code == 404
        # the tracker on the second process reads the frames from the bucket, not the original
        admin = Org(two)
        annotator = admin.person("annotator")
        admin.add_member(admin.project_id("clips"), annotator)
        http = admin.login(annotator)
        assignment = http.post(f"/api/projects/{admin.project_id('clips')}/next", json={}).json()["assignment"]["id"]
        r = http.post(f"/api/assignments/{assignment}/track", json={"box": {"left": 10, "top": 30, "width": 30, "height": 30}, "frame": 0, "frames": 20})
        assert r.status_code == 200, r.text
        assert len(r.json()["boxes"]) == 9 and r.json()["boxes"][-1]["left"] == pytest.approx(10 + 6 * 9, abs=3)
        assert objects(s3_server, bucket, folder) == made
        assert not (two.data_dir / "files" / org / file_id).exists()
        admin.http.close()
        http.close()


def test_two_processes_making_the_same_media_at_once(tmp_path, s3_server, backend):
    """Both servers asked for a new image's preview and tiles at the same moment (on
    PostgreSQL two live processes; on SQLite, which allows one, its threads): every answer is
    a good link, and the bucket holds one consistent set."""
    with machines(tmp_path, s3_server, backend) as (group, bucket):
        one = group.start()
        servers = [one, group.start()] if backend == "postgres" else [one]
        client = one.client()
        client.create_project(project_name="pics", task_type=TaskType.ImageAnnotation, params={"instruction": "Boxes."})
        uploaded = client.upload_file(io.BytesIO(image_bytes(2200, 1500, [(100, 100, 400, 300)], fmt="JPEG")))
        org, file_id = ids(uploaded.attachment_url)
        link = signed_link(client, "pics", uploaded.attachment_url)
        asks = [(srv, what) for srv in servers for what in ("preview", "tiles/1/1", "tiles/0/0", "preview") for _ in range(4 // len(servers))]
        results: dict[int, tuple[str, bytes]] = {}
        failures: list[str] = []
        start = threading.Barrier(len(asks))

        def ask(k: int, srv: Server, what: str) -> None:
            start.wait()
            try:
                results[k] = (what, from_store(s3_server, media(link.replace(one.url, srv.url), what)).content)
            except Exception as exc:  # noqa: BLE001 - reported below with the others
                failures.append(f"{srv.url} {what}: {exc!r}")

        threads = [threading.Thread(target=ask, args=(k, srv, what)) for k, (srv, what) in enumerate(asks)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not failures and len(results) == len(asks), failures
        for what in ("preview", "tiles/1/1", "tiles/0/0"):
            assert len({content for asked, content in results.values() if asked == what}) == 1
        folder = f"{PREFIX}/media/{org}/{file_id}/"
        assert set(objects(s3_server, bucket, folder)) == {folder + name for name in ["image.json", "preview.jpg", "tiles/complete",
                                                                                       *(f"tiles/{c}_{r}.jpg" for c in range(3) for r in range(2))]}
        assert not list(tmp_path.rglob("*.part"))
