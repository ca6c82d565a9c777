"""Exports over HTTP on SQLite and PostgreSQL: JSON lines, CSV and Parquet with their
columns, every filter, background jobs with progress and a download link, the history,
test keys, the audit log, and bad requests (400 naming the parameter)."""

from __future__ import annotations

import csv
import io
import json
import time

import pyarrow.parquet as pq
import pytest

from tests.security.hostile import Tenant


def _complete(http, project: str, texts: list[str], answers: list[str], **extra) -> list[str]:
    ids = []
    for i, (text, answer) in enumerate(zip(texts, answers)):
        r = http.post("/v1/task/categorization", json={"project": project, "attachment": text, "attachment_type": "text",
                                                       "categories": ["pos", "neg"], "metadata": {"i": i}, **extra})
        assert r.status_code == 200, r.text
        ids.append(r.json()["task_id"])
        if answer:
            a = http.post(f"/api/tasks/{ids[-1]}/answers", json={"response": {"category": answer}})
            assert a.status_code == 200, a.text
    return ids


@pytest.fixture()
def world(server):
    tenant = Tenant.new(server, "export")
    http = tenant.http()
    name = tenant.project()
    pid = tenant.project_id(name)
    assert http.post("/v1/batches", json={"project": name, "name": f"{name} b1"}).status_code == 200
    done = _complete(http, name, ["=cmd()", "good", "bad"], ["pos", "pos", "neg"])
    in_batch = _complete(http, name, ["batched"], ["neg"], batch=f"{name} b1")
    pending = _complete(http, name, ["later"], [None])
    return {"tenant": tenant, "http": http, "name": name, "pid": pid, "done": done, "batched": in_batch, "pending": pending}


def test_jsonl_csv_and_parquet_hold_inputs_answers_and_confidence(world):
    http, pid = world["http"], world["pid"]
    r = http.get(f"/api/projects/{pid}/export")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [t["task_id"] for t in lines] == world["done"] + world["batched"]
    first = lines[0]
    assert first["response"] == {"category": "pos"} and first["params"]["attachment"] == "=cmd()" and first["quality"]["confidence"] > 0
    assert first["metadata"] == {"i": 0} and first["project"] == world["name"] and "contributors" not in first["quality"]
    assert lines[-1]["batch"] == f"{world['name']} b1"
    # /v1 shape: the same as GET /v1/task/{id}
    single = http.get(f"/v1/task/{first['task_id']}").json()
    assert {k: v for k, v in single.items() if k != "quality"} == {k: v for k, v in first.items() if k != "quality"}

    rows = list(csv.DictReader(io.StringIO(http.get(f"/api/projects/{pid}/export", params={"format": "csv"}).text)))
    assert [row["task_id"] for row in rows] == world["done"] + world["batched"]
    assert rows[0]["input.attachment"] == "'=cmd()" and rows[0]["answer.category"] == "pos" and rows[2]["answer.category"] == "neg"
    assert float(rows[0]["confidence"]) > 0 and rows[0]["labels"] == "1" and rows[0]["auto_accepted"] == "false"
    assert json.loads(rows[0]["response"]) == {"category": "pos"}

    raw = http.get(f"/api/projects/{pid}/export", params={"format": "parquet"})
    assert raw.status_code == 200 and raw.headers["content-disposition"].endswith(".parquet")
    table = pq.read_table(io.BytesIO(raw.content))
    assert table.column("answer.category").to_pylist() == ["pos", "pos", "neg", "neg"]
    assert str(table.schema.field("confidence").type) == "double" and str(table.schema.field("labels").type) == "int64"
    assert table.column("input.attachment").to_pylist()[0] == "=cmd()"  # not a spreadsheet: kept as is


def test_filters(world):
    http, pid = world["http"], world["pid"]

    def ids(**params) -> list[str]:
        r = http.get(f"/api/projects/{pid}/export", params=params)
        assert r.status_code == 200, r.text
        return [json.loads(line)["task_id"] for line in r.text.splitlines()]

    assert ids(status="pending") == world["pending"]
    assert ids(status="all") == world["done"] + world["batched"] + world["pending"]
    assert ids(batch=f"{world['name']} b1") == world["batched"]
    assert ids(since="2000-01-01", until="2100-01-01") == world["done"] + world["batched"]
    assert ids(since="2100-01-01") == []
    assert ids(min_confidence=0.0) == world["done"] + world["batched"]
    assert ids(min_confidence=1.0) == [t for t in world["done"] + world["batched"]
                                       if http.get(f"/v1/task/{t}").json()["quality"]["confidence"] >= 1.0]
    everything = [json.loads(line) for line in http.get(f"/api/projects/{pid}/export", params={"answers": "true"}).text.splitlines()]
    assert everything[0]["answers"][0]["response"] == {"category": "pos"} and everything[0]["answers"][0]["source"] == "human"
    # gold items only when asked
    gold = http.post(f"/api/projects/{pid}/gold", json={"attachment": "gold text", "attachment_type": "text", "categories": ["pos", "neg"],
                                                        "expected_response": {"category": "neg"}})
    assert gold.status_code == 201, gold.text
    assert gold.json()["task_id"] not in ids()
    with_gold = [json.loads(line) for line in http.get(f"/api/projects/{pid}/export", params={"include_gold": "true"}).text.splitlines()]
    item = next(t for t in with_gold if t["task_id"] == gold.json()["task_id"])
    assert item["kind"] == "evaluation" and item["expected_response"] == {"category": "neg"}
    rows = list(csv.DictReader(io.StringIO(http.get(f"/api/projects/{pid}/export", params={"format": "csv", "include_gold": "true"}).text)))
    assert next(r for r in rows if r["task_id"] == item["task_id"])["answer.category"] == "neg"
    for params, field in [({"format": "xml"}, "format"), ({"status": "done"}, "status"), ({"min_confidence": "high"}, "min_confidence"),
                          ({"min_confidence": "2"}, "min_confidence"), ({"since": "yesterday"}, "since"), ({"batch": "nope"}, "batch"),
                          ({"include_gold": "maybe"}, "include_gold"), ({"colour": "red"}, "colour"), ({"format": "coco"}, "format"),
                          ({"format": "csv", "answers": "true"}, "answers")]:
        r = http.get(f"/api/projects/{pid}/export", params=params)
        assert r.status_code == 400 and r.json()["field"] == field, (params, r.text)


def test_jobs_progress_download_history_and_audit(world):
    http, pid = world["http"], world["pid"]
    r = http.post(f"/api/projects/{pid}/exports", json={"format": "csv", "status": "all", "since": "2000-01-01T00:00:00Z",
                                                                 "date_field": "created_at"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running", "done") and job["filters"] == {"status": "all", "since": "2000-01-01T00:00:00Z",
                                                                                  "date_field": "created_at"}
    deadline = time.time() + 30
    while job["status"] not in ("done", "failed") and time.time() < deadline:
        job = http.get(f"/api/exports/{job['id']}").json()
    assert job["status"] == "done", job
    assert job["done"] == job["total"] == 5 and job["download_url"] == f"/api/exports/{job['id']}/download"
    file = http.get(job["download_url"])
    assert file.status_code == 200 and file.headers["content-disposition"].startswith("attachment;")
    assert len(list(csv.DictReader(io.StringIO(file.text)))) == 5 and job["size"] == len(file.content)
    history = http.get(f"/api/projects/{pid}/exports").json()["exports"]
    assert history[0]["id"] == job["id"]
    events = http.get("/api/audit", params={"action": "export"}).json()["events"]
    assert any(e["details"].get("job") == job["id"] for e in events)
    for body, field in [({"format": "xml"}, "format"), ({"status": "later"}, "status"), ({"min_confidence": "0.5"}, "min_confidence"),
                        ({"colour": 1}, "colour")]:
        bad = http.post(f"/api/projects/{pid}/exports", json=body)
        assert bad.status_code == 400 and bad.json()["field"] == field, (body, bad.text)
    other = Tenant.new(world["tenant"].server, "other").http()
    assert other.get(f"/api/exports/{job['id']}").status_code == 404
    assert other.get(job["download_url"]).status_code == 404
    assert other.get(f"/api/projects/{pid}/exports").status_code == 404
    assert other.post(f"/api/projects/{pid}/exports", json={}).status_code == 404


def test_test_keys_export_test_tasks_and_an_empty_export_says_why(world):
    tenant, pid = world["tenant"], world["pid"]
    test_http = tenant.http(test=True)
    made = test_http.post("/v1/task/categorization", json={"project": world["name"], "attachment": "t", "attachment_type": "text",
                                                          "categories": ["pos", "neg"]}).json()["task_id"]
    tested = [json.loads(line)["task_id"] for line in test_http.get(f"/api/projects/{pid}/export").text.splitlines()]
    assert tested == [made]
    live = [json.loads(line)["task_id"] for line in world["http"].get(f"/api/projects/{pid}/export", params={"include_test": "true"}).text.splitlines()]
    assert made in live and world["done"][0] in live
    # a project whose tasks were all made with a test key: the live export is empty and says why
    only_test = tenant.project()
    test_http.post("/v1/task/categorization", json={"project": only_test, "attachment": "t", "attachment_type": "text", "categories": ["a", "b"]})
    r = world["http"].get(f"/api/projects/{tenant.project_id(only_test)}/export")
    assert r.status_code == 200 and r.text == "" and "test keys" in r.headers["x-export-note"]
    job = world["http"].post(f"/api/projects/{tenant.project_id(only_test)}/exports", json={}).json()
    deadline = time.time() + 30
    while job["status"] not in ("done", "failed") and time.time() < deadline:
        job = world["http"].get(f"/api/exports/{job['id']}").json()
    assert job["done"] == 0 and "test keys" in job["note"]
    # a test key's jobs are its own: the live history does not list them
    test_job = test_http.post(f"/api/projects/{pid}/exports", json={}).json()
    assert test_job["id"] not in [j["id"] for j in world["http"].get(f"/api/projects/{pid}/exports").json()["exports"]]
    assert world["http"].get(f"/api/exports/{test_job['id']}").status_code == 404


def test_export_jobs_migration_goes_up_and_down(backend, database_factory, tmp_path):
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from assay.migrate import alembic_config

    url = database_factory(backend) or f"sqlite:///{tmp_path / 'm.db'}"
    engine = create_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        assert "export_jobs" in inspect(conn).get_table_names()
        command.downgrade(cfg, "0010")
        assert "export_jobs" not in inspect(conn).get_table_names()
        command.upgrade(cfg, "head")
        assert {c["name"] for c in inspect(conn).get_columns("export_jobs")} >= {"public_id", "format", "filters", "done", "total", "note"}
    engine.dispose()
