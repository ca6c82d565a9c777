"""The `assay` command line: keys, users, settings validation, the demo, and the
credentials printed on first start, against the database of a real server. Commands run
in this process through typer's runner (`Server.cli`); the entry point itself (`python -m
assay`: --version, migrate with bad settings, serve and Ctrl-C, the first start) runs as
real subprocesses."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid

import pytest
from scaleapi.exceptions import ScaleException
from scaleapi.tasks import TaskType

import assay
from tests import local_http
from tests.db_access import query

LIVE_RE = re.compile(r"^live_[0-9a-f]{32}$")
TEST_RE = re.compile(r"^test_[0-9a-f]{32}$")


def flat(text: str) -> str:
    """Console output with its line wrapping undone."""
    return " ".join(text.split())


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assay", *args], env=env, capture_output=True, text=True, timeout=120)


def me(server, key: str) -> dict:
    r = local_http.get(f"{server.url}/api/me", auth=(key, ""), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def cli_org(server):
    """A new organization made by `keys create`, with (name, live stdout, test stdout)."""
    org = f"cli-{uuid.uuid4().hex[:8]}"
    live = server.cli("keys", "create", "--org", org, "--create-org")
    test = server.cli("keys", "create", "--org", org, "--test")
    return org, live.stdout, test.stdout


def test_keys_create_prints_one_working_live_key(server, cli_org):
    org, stdout, _ = cli_org
    assert stdout.endswith("\n") and stdout.count("\n") == 1
    key = stdout.strip()
    assert LIVE_RE.match(key), stdout
    info = me(server, key)
    assert info["organization"]["name"] == org
    assert info["test_mode"] is False
    client = server.client(key)
    assert client.get_projects() == []  # a new, empty organization
    client.create_project(project_name="first", task_type=TaskType.Categorization, params={"instruction": "Pick."})
    task = client.create_task(TaskType.Categorization, project="first", attachment="x", attachment_type="text", categories=["a", "b"])
    assert task.status == "pending"


def test_keys_create_test_key_auto_completes_tasks(server, cli_org):
    org, _, stdout = cli_org
    key = stdout.strip()
    assert stdout.count("\n") == 1 and TEST_RE.match(key), stdout
    info = me(server, key)
    assert info["organization"]["name"] == org and info["test_mode"] is True
    client = server.client(key)
    client.create_project(project_name="auto", task_type=TaskType.Categorization, params={"instruction": "Pick."})
    task = client.create_task(TaskType.Categorization, project="auto", attachment="x", attachment_type="text", categories=["a", "b"])
    assert task.status == "completed"
    assert task.response["category"] in ("a", "b")
    assert client.get_task(task.id).as_dict()["is_test"] is True


def test_keys_list_shows_prefixes_never_keys(server, cli_org):
    org, live_out, test_out = cli_org
    live, test = live_out.strip(), test_out.strip()
    result = server.cli("keys", "list", "--org", org)
    out = result.stdout + result.stderr
    for key in (live, test):
        assert key[:12] in out
        assert key not in out and key[12:] not in out
    assert "live" in out and "test" in out
    # another organization's keys are not listed
    assert server.live_key[:12] not in out


def test_keys_list_and_revoke_unknown_org_fail(server):
    result = server.cli("keys", "list", "--org", f"nope-{uuid.uuid4().hex[:8]}", check=False)
    assert result.returncode != 0
    assert "nope-" in flat(result.stderr)
    assert result.stdout.strip() == ""
    result = server.cli("keys", "revoke", "live_0000000", "--org", f"nope-{uuid.uuid4().hex[:8]}", check=False)
    assert result.returncode != 0


def test_keys_revoke_unknown_prefix_fails(server, cli_org):
    result = server.cli("keys", "revoke", "live_0000000", "--org", cli_org[0], check=False)
    assert result.returncode != 0
    assert "live_0000000" in flat(result.stderr)
    assert me(server, cli_org[1].strip())["organization"]["name"] == cli_org[0]  # nothing else revoked


def test_users_create_validates_role_email_and_duplicates(server, cli_org, uniq):
    org = cli_org[0]
    email = f"user-{uniq}@example.com"
    bad_role = server.cli("users", "create", email, "--role", "boss", "--org", org, check=False)
    assert bad_role.returncode != 0
    assert "role" in flat(bad_role.stderr)
    bad_email = server.cli("users", "create", f"not-an-email-{uniq}", "--role", "customer", "--org", org, check=False)
    assert bad_email.returncode != 0
    assert "email" in flat(bad_email.stderr)
    # neither attempt created the user
    assert query(server, "SELECT count(*) FROM users WHERE email = ?", (email,)) == [(0,)]

    server.cli("users", "create", email, "--role", "customer", "--org", org)
    dup = server.cli("users", "create", email.upper(), "--role", "annotator", "--org", org, check=False)
    assert dup.returncode != 0
    assert "email" in flat(dup.stderr) or "exists" in flat(dup.stderr)
    assert query(server, "SELECT role FROM users WHERE email = ?", (email,)) == [("customer",)]

    # a key for that user acts as that user
    key = server.cli("keys", "create", "--org", org, "--email", email).stdout.strip()
    assert LIVE_RE.match(key)
    info = me(server, key)
    assert info["email"] == email and info["role"] == "customer" and info["organization"]["name"] == org
    assert isinstance(server.client(key).get_projects(), list)
    missing = server.cli("keys", "create", "--org", org, "--email", f"ghost-{uniq}@example.com", check=False)
    assert missing.returncode != 0 and "email" in flat(missing.stderr)
    assert not LIVE_RE.match(missing.stdout.strip())


def test_keys_and_users_create_refuse_an_unknown_org_unless_create_org(server, uniq):
    org = f"typo-{uniq}"
    refused = server.cli("keys", "create", "--org", org, check=False)
    assert refused.returncode != 0 and not refused.stdout.strip()
    assert f"no organization named '{org}'" in flat(refused.stderr) and "--create-org" in flat(refused.stderr)
    refused = server.cli("users", "create", f"u-{uniq}@example.com", "--role", "annotator", "--org", org, check=False)
    assert refused.returncode != 0 and "--create-org" in flat(refused.stderr)
    assert query(server, "SELECT count(*) FROM organizations WHERE name = ?", (org,)) == [(0,)]
    key = server.cli("keys", "create", "--org", org, "--create-org").stdout.strip()
    assert LIVE_RE.match(key) and me(server, key)["organization"]["name"] == org
    # an organization that exists needs no flag, and --create-org does not make a second one
    assert LIVE_RE.match(server.cli("keys", "create", "--org", org).stdout.strip())
    assert LIVE_RE.match(server.cli("keys", "create", "--org", org, "--create-org").stdout.strip())
    assert query(server, "SELECT count(*) FROM organizations WHERE name = ?", (org,)) == [(1,)]


def _signs_in(server, email: str, password: str) -> bool:
    with local_http.Client(base_url=server.url, timeout=30) as http:
        page = http.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = http.post("/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"})
        return r.status_code == 303 and "assay_session" in http.cookies


def test_users_list_set_password_deactivate_and_reactivate(server, cli_org, uniq):
    org = cli_org[0]
    email = f"ann-{uniq}@example.com"
    server.cli("users", "create", email, "--role", "annotator", "--org", org, "--password", "first password", "--name", "Ann")
    rows = [line.split("\t") for line in server.cli("users", "list", "--org", org).stdout.splitlines()]
    assert rows[0] == ["id", "email", "name", "role", "active"]
    assert [r[1:] for r in rows if r[1] == email] == [[email, "Ann", "annotator", "yes"]]
    assert _signs_in(server, email, "first password")
    changed = server.cli("users", "set-password", email.upper(), "--org", org, "--password", "second password")
    assert "sessions are ended" in flat(changed.stderr)
    assert not _signs_in(server, email, "first password") and _signs_in(server, email, "second password")
    short = server.cli("users", "set-password", email, "--org", org, "--password", "short", check=False)
    assert short.returncode != 0 and "password" in flat(short.stderr)
    ghost = server.cli("users", "set-password", f"ghost-{uniq}@example.com", "--org", org, "--password", "long enough", check=False)
    assert ghost.returncode != 0 and "no user" in flat(ghost.stderr)
    # deactivated: no sign-in, not listed unless --all, and deactivating twice says so
    server.cli("users", "deactivate", email, "--org", org)
    assert not _signs_in(server, email, "second password")
    assert email not in server.cli("users", "list", "--org", org).stdout
    assert f"{email}\tAnn\tannotator\tno" in server.cli("users", "list", "--org", org, "--all").stdout
    again = server.cli("users", "deactivate", email, "--org", org, check=False)
    assert again.returncode != 0 and "already deactivated" in flat(again.stderr)
    server.cli("users", "reactivate", email, "--org", org)
    assert _signs_in(server, email, "second password")
    actions = [json.loads(line)["action"] for line in server.cli("audit", "--org", org, "--action", "user").stdout.splitlines()]
    assert actions.count("user.update") == 2 and actions.count("user.password") == 1
    unknown = server.cli("users", "list", "--org", f"nope-{uniq}", check=False)
    assert unknown.returncode != 0 and "no organization" in flat(unknown.stderr)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the server only lends its environment: once is enough
def test_version_and_flags_in_help(server):
    version = run(server.env(), "--version")  # the real entry point, in its own process
    assert version.stdout.strip() == f"assay {assay.__version__}" and re.fullmatch(r"assay \d+\.\d+\.\d+\S*", version.stdout.strip())
    for command in (["--help"], ["keys", "create", "--help"], ["export", "--help"]):
        text = server.cli(*command).stdout
        assert "<bool>" not in text and "--help" in text
    assert "<str>" in server.cli("keys", "create", "--help").stdout  # options with a value keep their type


def test_annotator_key_cannot_use_the_task_api(server, cli_org, uniq):
    org = cli_org[0]
    email = f"annot-{uniq}@example.com"
    server.cli("users", "create", email, "--role", "annotator", "--org", org)
    key = server.cli("keys", "create", "--org", org, "--email", email).stdout.strip()
    assert me(server, key)["role"] == "annotator"
    with pytest.raises(ScaleException) as exc:
        server.client(key).get_projects()
    assert exc.value.code == 403


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the server only lends its environment: once is enough
@pytest.mark.parametrize(
    "setting, value, named",
    [
        ("ASSAY_ALLOWED_PRIVATE_NETWORKS", "not-a-net", "allowed_private_networks"),
        ("ASSAY_CALLBACK_MAX_ATTEMPTS", "0", "callback_max_attempts"),
        ("ASSAY_WORKER_POLL_SECONDS", "soon", "worker_poll_seconds"),
    ],
)
def test_bad_setting_makes_migrate_fail_naming_it(server, tmp_path, setting, value, named):
    env = server.env()
    env.update({"ASSAY_DATA_DIR": str(tmp_path / "data"), "ASSAY_DATABASE_URL": "", setting: value})
    result = run(env, "migrate")
    assert result.returncode != 0
    assert named in flat(result.stderr).lower()
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "assay.db").exists()  # nothing was written


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the server only lends its environment: once is enough
def test_migrate_with_good_settings_succeeds(server, tmp_path):
    env = server.env()
    env.update({"ASSAY_DATA_DIR": str(tmp_path / "data"), "ASSAY_DATABASE_URL": ""})
    result = run(env, "migrate")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "assay.db").exists()
    assert run(env, "migrate").returncode == 0  # idempotent


def test_demo_creates_projects_once(server, uniq):
    org = f"demo-{uniq}"
    result = server.cli("demo", "--org", org)
    assert result.returncode == 0
    key = server.new_key(org)
    client = server.client(key)
    projects = client.get_projects()
    assert projects, "the demo created no projects"
    assert sum(client.get_tasks_count(project_name=p.name) for p in projects) > 0
    again = server.cli("demo", "--org", org, check=False)
    assert again.returncode != 0
    assert "already" in flat(again.stderr)
    assert sorted(p.name for p in client.get_projects()) == sorted(p.name for p in projects)  # nothing added twice
    # the admin organization did not receive the demo
    assert not {p.name for p in projects} & {p.name for p in server.client().get_projects()}


def test_serve_logs_migrations_once_and_stops_cleanly_on_ctrl_c(tmp_path):
    """`make run` is `assay serve`: Alembic's lines appear once (the first start migrates,
    the app's startup finds the database at head in the same process), and Ctrl-C
    (SIGINT) shuts the server down with exit code 0 and no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update({"ASSAY_DEMO": "false", "ASSAY_DATA_DIR": str(tmp_path / "data")})
    proc = subprocess.Popen([sys.executable, "-m", "assay", "serve", "--port", "0"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "Application startup complete" in line:
                break
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    log = "".join(lines) + rest
    assert proc.returncode == 0, log[-2000:]
    assert log.count("Context impl") == 1 and log.count("Running upgrade  -> 0001") == 1, log[-3000:]
    assert "Traceback" not in log and "KeyboardInterrupt" not in log and "Finished server process" in log


def test_serve_runs_on_uvloop_and_httptools(server):
    """The stack `assay serve` chooses (bench/server_stack.py) is the one loaded: both are
    compiled extensions, mapped into the serving process."""
    maps = open(f"/proc/{server.proc.pid}/maps").read()
    assert "/uvloop/loop." in maps and "/httptools/parser/parser." in maps


def test_first_start_prints_working_credentials(server_factory):
    srv = server_factory()
    log = srv.log_path.read_text()
    assert "admin@assay.local" in log
    assert LIVE_RE.match(srv.live_key) and TEST_RE.match(srv.test_key)
    assert srv.password and len(srv.password) >= 8
    live = me(srv, srv.live_key)
    assert live["email"] == "admin@assay.local" and live["role"] == "admin" and live["test_mode"] is False
    test = me(srv, srv.test_key)
    assert test["email"] == "admin@assay.local" and test["test_mode"] is True
    assert srv.client().get_projects() == []
    assert srv.client(srv.test_key).get_projects() == []
    # the password is stored as a hash, never as given
    stored = query(srv, "SELECT password_hash FROM users WHERE email = ?", ("admin@assay.local",))
    assert len(stored) == 1 and stored[0][0].startswith("scrypt$") and srv.password not in stored[0][0]

    # a second start prints no new credentials and the old ones keep working
    srv.stop()
    srv.port = 0
    srv.start()
    second_log = srv.log_path.read_text()
    assert "live API key" not in second_log and "password" not in second_log
    assert "admin account exists" in flat(second_log)
    assert me(srv, srv.live_key)["email"] == "admin@assay.local"
    assert query(srv, "SELECT count(*) FROM api_keys") == [(2,)]


def test_projects_policy_shows_and_changes_the_quality_policy(server, client, uniq):
    name = f"cli policy {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "x"})
    shown = json.loads(server.cli("projects", "policy", name, "--org", "default").stdout)
    assert shown["labels_per_task"] == 1 and shown["target_confidence"] is None and shown["aggregation"] == "auto"
    changed = json.loads(server.cli("projects", "policy", name, "--org", "default", "--labels", "2", "--max-labels", "4",
                                    "--target-confidence", "0.9", "--gold-rate", "0.1", "--pause-below", "0.6").stdout)
    assert (changed["labels_per_task"], changed["max_labels"], changed["target_confidence"], changed["gold_rate"], changed["pause_below"]) == (
        2, 4, 0.9, 0.1, 0.6)
    cleared = json.loads(server.cli("projects", "policy", name, "--org", "default", "--target-confidence", "0").stdout)
    assert cleared["target_confidence"] is None
    bad = server.cli("projects", "policy", name, "--org", "default", "--gold-rate", "2", check=False)
    assert bad.returncode != 0 and "gold_rate" in bad.stderr
    missing = server.cli("projects", "policy", "no such project", "--org", "default", check=False)
    assert missing.returncode != 0 and "not found" in missing.stderr
