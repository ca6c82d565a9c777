"""Object storage (ASSAY_STORAGE_URL=s3://…) against a real S3 server (SeaweedFS, started
by the `s3_server` fixture): the storage interface on both backends, presigned links (their
expiry, a missing object), and uploads kept in the bucket so a second server with its own
data directory serves them by a presigned link, never through itself."""

from __future__ import annotations

import csv
import io
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from scaleapi.tasks import TaskType

from assay.storage import LocalStorage, MissingObject, ObjectTooLarge, S3Storage
from tests import local_http
from tests.browser import Org
from tests.queue_support import CATEGORIES, Admin
from tests.s3_support import ACCESS_KEY, SECRET_KEY
from tests.support import Server, create_pg_database, drop_pg_database, wait_until
from tests.test_vision_api import setup, submit_masks
from tests.vision_support import image_bytes

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x90wS\xde" + b"rest" * 10


def _s3(s3_server, prefix="p") -> S3Storage:
    return S3Storage(s3_server.bucket(), prefix, s3_server.endpoint, "us-east-1", ACCESS_KEY, SECRET_KEY)


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "data")
    return _s3(request.getfixturevalue("s3_server"))


def test_storage_round_trip(storage, tmp_path):
    storage.put_bytes("files/o/a", b"alpha")
    source = tmp_path / "src.bin"
    source.write_bytes(b"beta" * 1000)
    storage.put_file("exports/o/b.zip", source, "application/zip")
    assert storage.get_bytes("files/o/a") == b"alpha"
    assert storage.head_bytes("files/o/a", 3) == b"alp" and storage.head_bytes("files/o/a", 64) == b"alpha"
    storage.put_bytes("files/o/empty", b"")
    assert storage.head_bytes("files/o/empty", 64) == b""
    with pytest.raises(MissingObject):
        storage.head_bytes("files/o/none", 64)
    assert storage.exists("exports/o/b.zip") and not storage.exists("files/o/none")
    target = tmp_path / "cache" / "b"
    storage.download("exports/o/b.zip", target)
    assert target.read_bytes() == b"beta" * 1000
    storage.delete("files/o/a")
    assert not storage.exists("files/o/a")
    with pytest.raises(MissingObject):
        storage.get_bytes("files/o/a")
    with pytest.raises(MissingObject):
        storage.download("files/o/none", tmp_path / "cache" / "none")
    assert not (tmp_path / "cache" / "none").exists() and list((tmp_path / "cache").iterdir()) == [target]
    # a bounded download refuses a larger object before writing anything
    with pytest.raises(ObjectTooLarge):
        storage.download("exports/o/b.zip", tmp_path / "bounded" / "b", limit=3999)
    assert not (tmp_path / "bounded").exists() or list((tmp_path / "bounded").iterdir()) == []
    storage.download("exports/o/b.zip", tmp_path / "bounded" / "b", limit=4000)
    assert (tmp_path / "bounded" / "b").read_bytes() == b"beta" * 1000


def test_presigned_links_expire_and_name_the_download(s3_server):
    store = _s3(s3_server)
    store.put_bytes("files/o/pic", PNG)
    r = local_http.get(store.url("files/o/pic", 60, filename='ev"il.png', content_type="image/png"))
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"] == 'inline; filename="evil.png"'
    # without a sniffed type: bytes, as an attachment
    r = local_http.get(store.url("files/o/pic", 60, filename="page.html"))
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment;")
    # the signature's timestamp is whole seconds: a 3-second link is good for 2 to 3 seconds
    signed_at = time.monotonic()
    short = store.url("files/o/pic", 3)
    assert local_http.get(short).status_code == 200
    time.sleep(max(0.0, signed_at + 4.0 - time.monotonic()))
    assert local_http.get(short).status_code == 403  # the store refuses an expired link
    assert local_http.get(store.url("files/o/missing", 60)).status_code == 404
    # the bucket is not public: no link, no bytes
    assert local_http.get(f"{s3_server.endpoint}/{store.bucket}/p/files/o/pic").status_code == 403


def test_bad_storage_url_is_refused():
    from assay.storage import storage_from_url

    with pytest.raises(ValueError, match="ASSAY_STORAGE_URL"):
        storage_from_url("ftp://bucket/x", None)


def test_second_server_serves_uploads_from_the_bucket(tmp_path, s3_server, backend):
    """Two servers, each its own data directory, one database (PostgreSQL) and one bucket:
    a file uploaded to one downloads from the other through a presigned link to the store.
    On SQLite (one server) the same: the link goes to the store, and a file missing from the
    local cache is not fetched back to be served (its type is sniffed from a ranged read)."""
    bucket = s3_server.bucket()
    env = {**s3_server.env(bucket), "ASSAY_PRESIGN_SECONDS": "120"}
    url = create_pg_database() if backend == "postgres" else ""
    one = Server(data_dir=tmp_path / "one", database_url=url, env_overrides=env).start()
    two = None
    try:
        client = one.client()
        client.create_project(project_name="media", task_type=TaskType.Categorization, params={"instruction": "x"})
        uploaded = client.upload_file(io.BytesIO(PNG), project_name="media")
        org, file_id = uploaded.attachment_url.removeprefix("scaledata://").split("/")
        keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == [f"pre/fix/files/{org}/{file_id}"]
        task = client.create_task(TaskType.Categorization, project="media", attachment=uploaded.attachment_url, attachment_type="image",
                                  categories=["a", "b"])
        if url:
            two = Server(data_dir=tmp_path / "two", database_url=url, env_overrides=env, live_key=one.live_key).start()
            serving = two
        else:  # the local copy is only a cache: drop it
            (tmp_path / "one" / "files" / org / file_id).unlink()
            serving = one
        docs = local_http.get(f"{serving.url}/v1/tasks", params={"project": "media", "include_attachment_url": "True"},
                         auth=(one.live_key, "")).json()["docs"]
        link = next(d["attachment_url"] for d in docs if d["task_id"] == task.id)
        first = local_http.get(link.replace(one.url, serving.url), follow_redirects=False)
        assert first.status_code == 307, first.text
        store_link = first.headers["location"]
        assert store_link.startswith(s3_server.endpoint)
        assert int(parse_qs(urlsplit(store_link).query)["X-Amz-Expires"][0]) <= 120
        got = local_http.get(store_link)
        assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
        # typed from its first bytes, read from the store: the file itself was not fetched to this machine
        assert not (serving.data_dir / "files" / org / file_id).exists()
        # a tampered app link gives nothing, as before
        assert local_http.get(link.replace(one.url, serving.url).replace("signature=", "signature=00")).status_code == 404
        # the object gone from the store (and from this machine's cache): 404, not a link
        s3_server.client().delete_object(Bucket=bucket, Key=f"pre/fix/files/{org}/{file_id}")
        (serving.data_dir / "files" / org / file_id).unlink(missing_ok=True)
        assert local_http.get(link.replace(one.url, serving.url), follow_redirects=False).status_code == 404
    finally:
        one.stop()
        if two is not None:
            two.stop()
        if url:
            drop_pg_database(url)


def test_export_files_go_to_the_bucket(tmp_path, s3_server):
    """An export job's file is written to the bucket (not left on this machine) and its
    download is a presigned link to the store."""
    bucket = s3_server.bucket()
    server = Server(data_dir=tmp_path / "one", database_url="", env_overrides=s3_server.env(bucket)).start()
    try:
        admin = Admin(server)
        pid = admin.project("exported", labels_per_task=1)
        email = admin.annotator(pid, "exp")
        tasks = [{"attachment": f"t{i}", "attachment_type": "text", "categories": CATEGORIES,
                  "answers": [{"labeler": email, "response": {"category": CATEGORIES[i % 3]}}]} for i in range(4)]
        assert admin.http.post("/api/tasks/bulk", json={"type": "categorization", "project": "exported", "tasks": tasks}).status_code == 200
        job = admin.http.post(f"/api/projects/{pid}/exports", json={"format": "csv"}).json()
        assert wait_until(lambda: admin.http.get(f"/api/exports/{job['id']}").json()["status"] == "done", timeout=30)
        r = admin.http.get(f"/api/exports/{job['id']}/download", follow_redirects=False)
        assert r.status_code == 307 and r.headers["location"].startswith(s3_server.endpoint)
        got = local_http.get(r.headers["location"])
        assert got.status_code == 200 and got.headers["content-disposition"].startswith("attachment;")
        assert len(list(csv.DictReader(io.StringIO(got.text)))) == 4
        assert not list((tmp_path / "one" / "exports").rglob("*.csv"))
        keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
        assert any(k.startswith("pre/fix/exports/") and k.endswith(".csv") for k in keys)
        admin.close()
    finally:
        server.stop()


def test_consolidated_masks_are_kept_in_the_bucket(tmp_path, s3_server):
    """Masks the server makes itself (the per-pixel vote of two labelers) go to the bucket
    like uploads: with this machine's copies gone, the task's RLE is read back from the store."""
    bucket = s3_server.bucket()
    server = Server(data_dir=tmp_path / "one", database_url="", env_overrides=s3_server.env(bucket)).start()
    try:
        client, org = server.client(), Org(server)
        pid, people = setup(client, org, "s3", TaskType.SegmentAnnotation, "masks", labels_per_task=2)
        url = client.upload_file(io.BytesIO(image_bytes(120, 80))).attachment_url
        task = client.create_task(TaskType.SegmentAnnotation, project="masks", attachment=url, labels=["car"])
        car = [{"label": "car", "index": 1, "color": "#ff0000"}]
        submit_masks(people, pid, [([[1, 4800], [0, 4800]], car), ([[1, 2400], [0, 7200]], car)])
        done = org.http.get(f"/api/tasks/{task.id}").json()
        assert done["quality"]["method"] == "pixel_vote"
        indexed = done["response"]["annotations"]["combined"]["indexedImage"]
        org_id, file_id = indexed.removeprefix("scaledata://").split("/")
        keys = {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]}
        assert f"pre/fix/files/{org_id}/{file_id}" in keys
        for path in (tmp_path / "one" / "files" / org_id).iterdir():
            path.unlink()  # this machine's cache only
        masks = org.http.get(f"/api/tasks/{task.id}/masks").json()["masks"]
        # two labelers of equal weight: the tie on rows 20-39 goes to unlabeled
        assert sum(masks["car"]["counts"][1::2]) == 2400
    finally:
        server.stop()
