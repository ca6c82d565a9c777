"""Tasks imported from the storage bucket (`POST /api/projects/{id}/imports/bucket`,
`assay import --from-bucket`) against a real S3 server (SeaweedFS): one task per object
whose attachment loads the object's bytes through a presigned link, a manifest of task
bodies, re-imports that add only new objects, and the refusals — an empty prefix, another
bucket, this server's own files, objects outside the organization's folder, bad rows
(nothing stored, no copies left)."""

from __future__ import annotations

import hashlib
import io
import json
import uuid

import httpx
import numpy as np
import pytest
from PIL import Image

from tests import local_http
from tests.db_access import query
from tests.security.hostile import Tenant
from tests.support import Server

PREFIX = "pre/fix"  # the server's own keys; imports read elsewhere in the bucket


def png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (8, 12, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def bucket_server(s3_server, backend, database_factory, tmp_path_factory):
    bucket = s3_server.bucket()
    # one organization's server: any key outside the server's own (the default is each organization's folder)
    server = Server(data_dir=tmp_path_factory.mktemp("bucket-import"), database_url=database_factory(backend),
                    env_overrides={**s3_server.env(bucket, PREFIX), "ASSAY_BUCKET_IMPORT_PREFIX": ""}).start()
    server.bucket = bucket
    yield server
    server.stop()


@pytest.fixture()
def tenant(bucket_server) -> Tenant:
    return Tenant.new(bucket_server, "bucket")


@pytest.fixture()
def s3(s3_server):
    return s3_server.client()


def put_images(s3, bucket: str, folder: str, n: int) -> dict[str, bytes]:
    images = {f"{folder}/img-{i:02d}.png": png(i) for i in range(n)}
    for key, data in images.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    return images


def categorization(tenant: Tenant) -> tuple[str, str]:
    name = tenant.project("categorization", categories=["cat", "dog"])
    return name, tenant.project_id(name)


def bucket_import(tenant: Tenant, project_id: str, **body) -> httpx.Response:
    return tenant.http().post(f"/api/projects/{project_id}/imports/bucket", json=body)


def loaded(tenant: Tenant, task_id: str) -> bytes:
    """The attachment as the workbench loads it: the signed link, redirected (307) to a
    presigned link of the store."""
    link = tenant.signed_link(task_id)
    first = local_http.get(link)
    assert first.status_code == 307 and first.headers["location"].startswith(tenant.server.env()["ASSAY_S3_ENDPOINT_URL"])
    return local_http.get(first.headers["location"]).content


def objects(s3, bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_one_task_per_object_whose_attachment_loads_the_bytes(tenant, s3):
    bucket, folder = tenant.server.bucket, f"raw-{uuid.uuid4().hex[:6]}"
    images = put_images(s3, bucket, folder, 4)
    s3.put_object(Bucket=bucket, Key=f"{folder}/README.txt", Body=b"not an image")
    _, pid = categorization(tenant)
    r = bucket_import(tenant, pid, prefix=f"s3://{bucket}/{folder}/")
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["created"] == 4 and out["format"] == "objects" and out["ignored"] == 1 and out["skipped"] == 0
    http = tenant.http()
    for task_id in out["task_ids"]:
        task = http.get(f"/v1/task/{task_id}").json()
        key = f"{folder}/{task['metadata']['file_name']}"
        assert task["metadata"]["source_url"] == f"s3://{bucket}/{key}"
        assert task["params"]["attachment"].startswith("scaledata://") and task["params"]["attachment_type"] == "image"
        assert loaded(tenant, task_id) == images[key]
        file_id = task["params"]["attachment"].rsplit("/", 1)[1]
        assert query(tenant.server, "SELECT sha256, size FROM files WHERE public_id = ?", (file_id,)) == [
            (hashlib.sha256(images[key]).hexdigest(), len(images[key]))]
    # the copies are the server's own: removing the raw objects does not break a task
    for key in images:
        s3.delete_object(Bucket=bucket, Key=key)
    assert loaded(tenant, out["task_ids"][0]) in images.values()
    assert "import" in [e["action"] for e in http.get("/api/audit").json()["events"]]


def test_importing_a_prefix_again_adds_only_new_objects(tenant, s3):
    bucket, folder = tenant.server.bucket, f"grow-{uuid.uuid4().hex[:6]}"
    put_images(s3, bucket, folder, 3)
    _, pid = categorization(tenant)
    first = bucket_import(tenant, pid, prefix=f"s3://{bucket}/{folder}/")
    assert first.status_code == 201 and first.json()["created"] == 3
    again = bucket_import(tenant, pid, prefix=f"s3://{bucket}/{folder}/")
    assert again.status_code == 200 and again.json() == {"format": "objects", "mode": "tasks", "created": 0, "task_ids": [], "skipped": 3,
                                                         "ignored": 0}
    s3.put_object(Bucket=bucket, Key=f"{folder}/new.jpg", Body=png(99))
    third = bucket_import(tenant, pid, prefix=f"s3://{bucket}/{folder}/")
    assert third.status_code == 201 and third.json()["created"] == 1 and third.json()["skipped"] == 3
    # another project of the organization gets its own tasks of the same objects
    _, other = categorization(tenant)
    assert bucket_import(tenant, other, prefix=f"s3://{bucket}/{folder}/").json()["created"] == 4


def test_a_manifest_of_task_bodies(tenant, s3):
    bucket, folder = tenant.server.bucket, f"man-{uuid.uuid4().hex[:6]}"
    images = put_images(s3, bucket, folder, 2)
    keys = sorted(images)
    lines = [{"attachment": f"s3://{bucket}/{keys[0]}", "attachment_type": "image", "metadata": {"shot": 1}, "unique_id": f"{folder}-1"},
             {"attachment": f"s3://{bucket}/{keys[1]}", "attachment_type": "image", "label": "dog"},
             {"attachment": "a plain sentence", "attachment_type": "text"}]
    s3.put_object(Bucket=bucket, Key=f"{folder}/tasks.jsonl", Body="\n".join(json.dumps(x) for x in lines).encode())
    _, pid = categorization(tenant)
    r = bucket_import(tenant, pid, manifest=f"s3://{bucket}/{folder}/tasks.jsonl", mode="prelabels")
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "jsonl" and r.json()["created"] == 3
    http = tenant.http()
    tasks = [http.get(f"/v1/task/{t}").json() for t in r.json()["task_ids"]]
    assert tasks[0]["metadata"] == {"shot": 1} and tasks[0]["unique_id"] == f"{folder}-1"
    assert tasks[1]["params"]["hypothesis"] == {"category": "dog"}
    assert tasks[2]["params"]["attachment"] == "a plain sentence"
    assert [loaded(tenant, t["task_id"]) for t in tasks[:2]] == [images[keys[0]], images[keys[1]]]
    # the same manifest again: its unique_id is taken, so nothing at all is imported
    again = bucket_import(tenant, pid, manifest=f"s3://{bucket}/{folder}/tasks.jsonl")
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "unique_id"
    assert http.get("/v1/tasks", params={"project": tasks[0]["project"], "limit": 1}).json()["total"] == 3


def test_bad_manifest_rows_store_nothing_and_leave_no_copies(tenant, s3):
    bucket, folder = tenant.server.bucket, f"bad-{uuid.uuid4().hex[:6]}"
    images = put_images(s3, bucket, folder, 1)
    lines = [{"attachment": f"s3://{bucket}/{next(iter(images))}", "attachment_type": "image"},
             {"attachment": f"s3://elsewhere/{folder}/x.png", "attachment_type": "image"},
             {"attachment": f"s3://{bucket}/{PREFIX}/files/someone/else", "attachment_type": "image"},
             {"attachment_type": "image"}]
    s3.put_object(Bucket=bucket, Key=f"{folder}/tasks.jsonl", Body="\n".join(json.dumps(x) for x in lines).encode())
    _, pid = categorization(tenant)
    before = objects(s3, bucket, f"{PREFIX}/files/")
    r = bucket_import(tenant, pid, manifest=f"s3://{bucket}/{folder}/tasks.jsonl")
    assert r.status_code == 400 and r.json()["field"] == "manifest"
    errors = {(e["line"], e["field"]) for e in r.json()["errors"]}
    assert errors == {(2, "attachment"), (3, "attachment"), (4, "attachment")}
    assert "not this server's storage bucket" in r.json()["errors"][0]["error"]
    assert "own files" in r.json()["errors"][1]["error"]
    assert objects(s3, bucket, f"{PREFIX}/files/") == before
    # a row naming a missing object: checked rows pass, the copy fails, nothing is kept
    s3.put_object(Bucket=bucket, Key=f"{folder}/gone.jsonl", Body=b"\n".join(
        json.dumps({"attachment": f"s3://{bucket}/{k}", "attachment_type": "image"}).encode() for k in [*images, f"{folder}/missing.png"]))
    r = bucket_import(tenant, pid, manifest=f"s3://{bucket}/{folder}/gone.jsonl")
    assert r.status_code == 400 and r.json()["field"] == "manifest" and "missing.png: no such object" in r.json()["error"]
    assert objects(s3, bucket, f"{PREFIX}/files/") == before
    assert query(tenant.server, "SELECT count(*) FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.public_id = ?", (pid,)) == [(0,)]


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"prefix": "s3://{bucket}/empty-{uniq}/"}, "prefix", "no media objects"),
    ({"prefix": "s3://another-bucket/raw/"}, "prefix", "not this server's storage bucket"),
    ({"prefix": "s3://{bucket}/" + PREFIX + "/files/"}, "prefix", "own files"),
    ({"prefix": "s3://{bucket}/" + PREFIX + "/media/"}, "prefix", "own files"),  # previews, tiles, frames of its files
    ({"prefix": "s3://{bucket}/"}, "prefix", "own files"),  # the whole bucket holds them
    ({"prefix": "s3://{bucket}/raw/../" + PREFIX + "/"}, "prefix", "'..'"),
    ({"prefix": "https://example.com/raw/"}, "prefix", "not an s3://bucket/key URL"),
    ({"manifest": "s3://{bucket}/nowhere-{uniq}.jsonl"}, "manifest", "no object"),
    ({"manifest": "s3://{bucket}/x.jsonl", "prefix": "s3://{bucket}/x/"}, "prefix", "not both"),
    ({}, "prefix", "not both"),
    ({"prefix": "s3://{bucket}/raw/", "mode": "everything"}, "mode", ""),
    ({"prefix": "s3://{bucket}/raw/", "surprise": 1}, "surprise", ""),
])
def test_refusals_name_the_field(tenant, body, field, words):
    _, pid = categorization(tenant)
    uniq = uuid.uuid4().hex[:6]
    filled = {k: v.format(bucket=tenant.server.bucket, uniq=uniq) if isinstance(v, str) else v for k, v in body.items()}
    r = bucket_import(tenant, pid, **filled)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field and words in r.json()["error"], r.json()


def test_another_organizations_project_is_not_found(tenant, s3):
    _, pid = categorization(tenant)
    other = Tenant.new(tenant.server, "stranger")
    r = other.http().post(f"/api/projects/{pid}/imports/bucket", json={"prefix": f"s3://{tenant.server.bucket}/raw/"})
    assert r.status_code == 404


def test_cli_imports_from_the_bucket(tenant, s3):
    bucket, folder = tenant.server.bucket, f"cli-{uuid.uuid4().hex[:6]}"
    put_images(s3, bucket, folder, 2)
    name, _ = categorization(tenant)
    done = tenant.server.cli("import", name, "--org", tenant.name, "--from-bucket", f"s3://{bucket}/{folder}/")
    assert "imported 2 tasks" in done.stderr
    again = tenant.server.cli("import", name, "--org", tenant.name, "--from-bucket", f"s3://{bucket}/{folder}/")
    assert "imported 0 tasks" in again.stderr and "2 objects already had a task" in again.stderr
    refused = tenant.server.cli("import", name, "--org", tenant.name, "--from-bucket", "s3://another-bucket/x/", check=False)
    assert refused.returncode != 0 and "not this server's storage bucket" in " ".join(refused.stderr.split())


def test_each_organization_reads_only_its_folder(s3_server, tmp_path):
    """By default (ASSAY_BUCKET_IMPORT_PREFIX=imports/{org}/) organizations stay out of each other's folders."""
    bucket = s3_server.bucket()
    server = Server(data_dir=tmp_path / "data", database_url="", env_overrides=s3_server.env(bucket, PREFIX)).start()
    try:
        server.bucket = bucket
        alice, bob = Tenant.new(server, "alice"), Tenant.new(server, "bob")
        s3 = s3_server.client()
        alice_org = alice.me()["organization"]["id"]
        images = put_images(s3, bucket, f"imports/{alice_org}/batch1", 2)
        _, alice_pid = categorization(alice)
        r = bucket_import(alice, alice_pid, prefix=f"s3://{bucket}/imports/{alice_org}/batch1/")
        assert r.status_code == 201 and r.json()["created"] == 2
        assert loaded(alice, r.json()["task_ids"][0]) in images.values()
        _, bob_pid = categorization(bob)
        r = bucket_import(bob, bob_pid, prefix=f"s3://{bucket}/imports/{alice_org}/batch1/")
        assert r.status_code == 400 and r.json()["field"] == "prefix" and "ASSAY_BUCKET_IMPORT_PREFIX" in r.json()["error"]
        put_images(s3, bucket, "shared/batch1", 1)
        r = bucket_import(alice, alice_pid, prefix=f"s3://{bucket}/shared/batch1/")
        assert r.status_code == 400 and r.json()["field"] == "prefix" and f"imports/{alice_org}/" in r.json()["error"]
    finally:
        server.stop()


def test_without_object_storage_the_endpoint_says_what_it_needs(server):
    tenant = Tenant.new(server, "local")
    _, pid = categorization(tenant)
    r = bucket_import(tenant, pid, prefix="s3://bucket/raw/")
    assert r.status_code == 400 and r.json()["field"] == "prefix" and "ASSAY_STORAGE_URL" in r.json()["error"]
