"""The server never signs a link to another organization's file (high finding: a
`scaledata://<orgA>/<fileA>` string in a `text` attachment or any other string param was
accepted from organization B and then signed by include_attachment_url and `next`).

Every scaledata:// reference is resolved against the caller's organization when the task
is created (400 naming the field) and again when a link is signed."""

from __future__ import annotations

import pytest

from tests.db_access import query
from tests.security.hostile import Tenant
from tests.security.test_file_serving import PNG


@pytest.fixture()
def victim_file(server) -> str:
    victim = Tenant.new(server, "victim")
    return victim.upload("secret.png", PNG, "image/png")["attachment_url"]


@pytest.mark.parametrize("extra, field", [
    ({"attachment_type": "text"}, "attachment"),
    ({"attachment_type": "image"}, "attachment"),
])
def test_foreign_reference_in_the_attachment_is_refused(server, victim_file, extra, field):
    attacker = Tenant.new(server, "attacker")
    project = attacker.project()
    r = attacker.http().post("/v1/task/categorization", json={"project": project, "attachment": victim_file, **extra,
                                                              "categories": ["a", "b"]})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field
    assert "not a file of this organization" in r.json()["error"]
    assert query(server, "SELECT COUNT(*) FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.name = ?", (project,))[0][0] == 0


def test_foreign_reference_in_any_string_param_is_refused(server, victim_file):
    attacker = Tenant.new(server, "attacker")
    project = attacker.project()
    r = attacker.http().post("/v1/task/categorization", json={"project": project, "attachment": "hello", "attachment_type": "text",
                                                              "categories": ["a", victim_file]})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "categories[1]"


def test_foreign_reference_in_a_bulk_import_names_the_task(server, victim_file):
    attacker = Tenant.new(server, "attacker")
    project = attacker.project()
    own = attacker.upload("mine.png", PNG, "image/png")["attachment_url"]
    tasks = [{"attachment": own, "categories": ["a", "b"]}] * 3 + [{"attachment": victim_file, "categories": ["a", "b"]}]
    r = attacker.http().post("/api/tasks/bulk", json={"type": "categorization", "project": project, "tasks": tasks})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "tasks[3].attachment"
    assert query(server, "SELECT COUNT(*) FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.name = ?", (project,))[0][0] == 0


def test_own_files_are_accepted_and_signed(server):
    tenant = Tenant.new(server, "owner")
    own = tenant.upload("mine.png", PNG, "image/png")["attachment_url"]
    project = tenant.project()
    r = tenant.http().post("/v1/task/categorization", json={"project": project, "attachment": own, "categories": ["a", "b"]})
    assert r.status_code == 200, r.text
    assert "/api/files/" in tenant.signed_link(r.json()["task_id"])


def test_a_stored_foreign_reference_is_never_signed(server, victim_file):
    """A row that holds another organization's reference (stored before this check
    existed) is not signed: include_attachment_url leaves it out."""
    attacker = Tenant.new(server, "attacker")
    project = attacker.project()
    r = attacker.http().post("/v1/task/categorization", json={"project": project, "attachment": "placeholder",
                                                              "attachment_type": "text", "categories": ["a", "b"]})
    task_id = r.json()["task_id"]
    _rewrite_attachment(server, task_id, victim_file)
    doc = attacker.http().get(f"/v1/task/{task_id}").json()
    assert doc["params"]["attachment"] == victim_file
    listed = attacker.http().get("/v1/tasks", params={"project": project, "include_attachment_url": "true"}).json()["docs"]
    assert [d.get("attachment_url") for d in listed] == [None]
    # nor by the workbench, which signs the attachments of the task it leases
    leased = attacker.http().post(f"/api/projects/{attacker.project_id(project)}/next", json={})
    assert leased.status_code == 200, leased.text
    assert leased.json()["task"]["params"]["attachment"] == victim_file


def _rewrite_attachment(server, task_id: str, url: str) -> None:
    """Plant a foreign reference the way an old server version could have stored it."""
    import json

    import psycopg

    if not server.database_url:
        import sqlite3

        conn = sqlite3.connect(server.data_dir / "assay.db", timeout=10)
        try:
            params = json.loads(conn.execute("SELECT params FROM tasks WHERE public_id = ?", (task_id,)).fetchone()[0])
            params["attachment"] = url
            conn.execute("UPDATE tasks SET params = ? WHERE public_id = ?", (json.dumps(params), task_id))
            conn.commit()
        finally:
            conn.close()
        return
    with psycopg.connect(server.database_url.replace("+psycopg", "")) as conn:
        conn.execute("UPDATE tasks SET params = jsonb_set(params, '{attachment}', to_jsonb(%s::text)) WHERE public_id = %s", (url, task_id))
