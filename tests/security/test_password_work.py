"""Password checks cost the same whether or not the e-mail exists, and never run on the
event loop. Seen from inside the process: the app runs under uvicorn in a thread of the
test process, and `hashlib.scrypt` is wrapped to count its calls and to note whether
each ran on a thread with a running event loop. No timings."""

from __future__ import annotations

import asyncio
import hashlib
import re

import pytest

from tests import local_http

PASSWORD = "correct horse battery"
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def people(inprocess):
    """E-mails in the in-process server's database: a person with a password, one
    without (API only), a deactivated one."""
    from assay.db import get_db
    from assay.orgs import service as orgs

    with get_db().write() as session:
        first = orgs.create_org(session, "first")
        orgs.create_user(session, first, "alice@example.com", "annotator", password=PASSWORD)
        orgs.create_user(session, first, "robot@example.com", "customer")
        orgs.create_user(session, first, "gone@example.com", "annotator", password=PASSWORD).active = False
        admin = orgs.create_user(session, first, "boss@example.com", "admin", password=PASSWORD)
        key = orgs.create_key(session, admin).key
    return {"url": inprocess, "key": key}


@pytest.fixture()
def scrypt_calls(monkeypatch):
    """Every scrypt call from now on: True when it ran with an event loop running in its thread."""
    calls: list[bool] = []
    real = hashlib.scrypt

    def spy(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            calls.append(True)
        except RuntimeError:
            calls.append(False)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", spy)
    return calls


def sign_in(url: str, email: str, password: str) -> int:
    with local_http.Client(base_url=url, timeout=30) as http:
        token = FORM_TOKEN.search(http.get("/login").text).group(1)
        return http.post("/login", data={"csrf_token": token, "email": email, "password": password}).status_code


def test_unknown_email_costs_the_same_scrypt_work_as_a_known_one(people, scrypt_calls):
    url = people["url"]
    cases = [
        ("nobody@example.com", "some password", 401),   # no such account
        ("alice@example.com", "wrong password", 401),   # known, wrong password
        ("alice@example.com", PASSWORD, 303),            # known, right password
        ("robot@example.com", "some password", 401),    # account without a password
        ("gone@example.com", PASSWORD, 401),             # deactivated account
        ("nobody@example.com", "", 401),                 # empty password
    ]
    for email, password, status in cases:
        scrypt_calls.clear()
        assert sign_in(url, email, password) == status, email
        assert len(scrypt_calls) == 1, f"{email}: {len(scrypt_calls)} scrypt calls"
    # an address with accounts in two organizations is checked against both
    from assay.db import get_db
    from assay.orgs import service as orgs

    with get_db().write() as session:
        orgs.create_user(session, orgs.get_org_by_name(session, "first"), "both@example.com", "annotator", password="first password")
        orgs.create_user(session, orgs.create_org(session, "second"), "both@example.com", "reviewer", password="second password")
    scrypt_calls.clear()
    assert sign_in(url, "both@example.com", "second password") == 303
    assert len(scrypt_calls) == 2


def test_unknown_email_costs_one_verification_in_authenticate_password(people, scrypt_calls):
    from assay.db import get_db
    from assay.orgs.service import authenticate_password

    for email, password in [("nobody@example.com", "x" * 12), ("alice@example.com", "x" * 12), ("ALICE@example.com ", PASSWORD)]:
        scrypt_calls.clear()
        with get_db().read() as session:
            user = authenticate_password(session, email, password)
        assert (user is not None) == (password == PASSWORD)
        assert len(scrypt_calls) == 1, email


def test_password_hashing_and_checks_run_off_the_event_loop(people, scrypt_calls):
    url = people["url"]
    assert sign_in(url, "alice@example.com", "wrong password") == 401
    assert sign_in(url, "alice@example.com", PASSWORD) == 303
    assert sign_in(url, "nobody@example.com", PASSWORD) == 401
    assert len(scrypt_calls) == 3 and not any(scrypt_calls), f"scrypt ran on the event loop: {scrypt_calls}"
    # the API paths that hash a password (create a person, change a password)
    api = local_http.Client(base_url=url, headers={"Authorization": f"Bearer {people['key']}"}, timeout=30)
    r = api.post("/api/users", json={"email": "new@example.com", "role": "annotator", "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert api.patch(f"/api/users/{r.json()['id']}", json={"password": "another password"}).status_code == 200
    assert len(scrypt_calls) == 5 and not any(scrypt_calls), f"scrypt ran on the event loop: {scrypt_calls}"
