"""Sessions live in the database and can be ended: a copied cookie stops working after
logout, after a password change (the person's own or an admin's, API or CLI) and after a
deactivation, which a reactivation does not undo. Another session of the same person
survives a logout. Only the token's SHA-256 digest is stored."""

from __future__ import annotations

import hashlib

import pytest

from tests.browser import Org
from tests.db_access import query
from tests.security.support import Browser
from tests.support import wait_until


@pytest.fixture()
def org(server, uniq) -> Org:
    """A fresh organization, administered with its API key."""
    return Org(server, server.new_key(f"sessions-{uniq}"))


def sessions_of(server, user_id: int) -> list[str]:
    return [row[0] for row in query(server, "SELECT token_hash FROM user_sessions WHERE user_id = ?", (user_id,))]


def test_logout_ends_that_session_and_its_copies_only(server, org):
    person = org.person("annotator")
    laptop = Browser(server).login(person.email, person.password)
    phone = Browser(server).login(person.email, person.password)
    stolen = laptop.copy(server)
    assert stolen.me() == 200 and stolen.http.get("/").status_code == 200
    laptop_cookie = laptop.cookie

    out = laptop.logout()
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert laptop.me() == 401
    assert stolen.me() == 401
    r = stolen.http.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert stolen.http.post(f"/api/projects/{'0' * 24}/next", json={}).status_code == 401
    # the other session of the same person goes on
    assert phone.me() == 200
    # the table holds the digest of the token, never the token
    assert sessions_of(server, person.id) == [hashlib.sha256(phone.cookie.encode()).hexdigest()]
    stored = query(server, "SELECT * FROM user_sessions")
    assert not any(token in str(value) for row in stored for value in row for token in (phone.cookie, laptop_cookie))


def test_password_change_by_an_admin_ends_every_session(server, org):
    person = org.person("annotator")
    first = Browser(server).login(person.email, person.password)
    second = Browser(server).login(person.email, person.password)
    stolen = first.copy(server)
    r = org.http.patch(f"/api/users/{person.id}", json={"password": "a brand new password"})
    assert r.status_code == 200, r.text
    assert [first.me(), second.me(), stolen.me()] == [401, 401, 401]
    assert sessions_of(server, person.id) == []
    assert Browser(server).try_login(person.email, person.password).status_code == 401
    assert Browser(server).login(person.email, "a brand new password").me() == 200


def test_own_password_change_ends_the_copies_and_renews_the_callers_session(server, org):
    admin = org.person("admin")
    browser = Browser(server).login(admin.email, admin.password)
    other_device = Browser(server).login(admin.email, admin.password)
    stolen = browser.copy(server)
    old_cookie = browser.cookie
    r = browser.http.patch(f"/api/users/{admin.id}", json={"password": "my own new password"})
    assert r.status_code == 200, r.text
    assert browser.cookie != old_cookie  # a new session in place of the old one
    assert stolen.me() == 401 and other_device.me() == 401
    # the caller goes on, its page's CSRF token still good for unsafe calls
    assert browser.me() == 200
    assert browser.http.patch(f"/api/users/{admin.id}", json={"name": "Still Me"}).status_code == 200
    assert sessions_of(server, admin.id) == [hashlib.sha256(browser.cookie.encode()).hexdigest()]
    assert Browser(server).login(admin.email, "my own new password").me() == 200


def test_password_change_from_the_cli_ends_every_session(server, org):
    person = org.person("annotator")
    browser = Browser(server).login(person.email, person.password)
    stolen = browser.copy(server)
    name = org.http.get("/api/me").json()["organization"]["name"]
    result = server.cli("users", "password", person.email, "--org", name, "--password", "set by the cli")
    assert "sessions are ended" in result.stderr
    assert sessions_of(server, person.id) == []
    # the CLI is another process: the server's principal cache forgets within ASSAY_AUTH_CACHE_SECONDS (1 s in the suite)
    assert wait_until(lambda: stolen.me() == 401 and browser.me() == 401, timeout=20)
    assert Browser(server).login(person.email, "set by the cli").me() == 200
    bad = server.cli("users", "password", person.email, "--org", name, "--password", "short", check=False)
    assert bad.returncode != 0 and "password" in bad.stderr


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(server, org):
    person = org.person("reviewer")
    browser = Browser(server).login(person.email, person.password)
    stolen = browser.copy(server)
    assert org.http.patch(f"/api/users/{person.id}", json={"active": False}).status_code == 200
    assert stolen.me() == 401 and browser.me() == 401
    assert Browser(server).try_login(person.email, person.password).status_code == 401
    assert org.http.patch(f"/api/users/{person.id}", json={"active": True}).status_code == 200
    assert stolen.me() == 401 and browser.me() == 401
    assert Browser(server).login(person.email, person.password).me() == 200


def test_role_change_applies_to_a_live_session_at_once(server, org):
    person = org.person("annotator")
    browser = Browser(server).login(person.email, person.password)
    assert browser.http.get("/api/users").status_code == 403
    assert org.http.patch(f"/api/users/{person.id}", json={"role": "admin"}).status_code == 200
    assert browser.http.get("/api/users").status_code == 200
    assert browser.http.get("/api/me").json()["role"] == "admin"
    assert org.http.patch(f"/api/users/{person.id}", json={"role": "annotator"}).status_code == 200
    assert browser.http.get("/api/users").status_code == 403


def test_signing_in_again_replaces_the_browsers_previous_session(server, org):
    person = org.person("annotator")
    browser = Browser(server).login(person.email, person.password)
    before = browser.copy(server)
    browser.login(person.email, person.password)
    assert before.me() == 401 and browser.me() == 200
    assert sessions_of(server, person.id) == [hashlib.sha256(browser.cookie.encode()).hexdigest()]
