"""E-mail addresses are unique per organization: one organization's admin cannot learn
(by a 409) that an address has an account in another, nor take an address in advance.
Each account signs in with its own password into its own organization. Addresses are
validated, with a 400 naming `email`."""

from __future__ import annotations

import pytest

from tests.browser import Org
from tests.db_access import query
from tests.security.support import Browser


@pytest.fixture()
def two_orgs(server, uniq) -> tuple[Org, Org]:
    return Org(server, server.new_key(f"email-a-{uniq}")), Org(server, server.new_key(f"email-b-{uniq}"))


def add(org: Org, email: str, role: str, password: str):
    return org.http.post("/api/users", json={"email": email, "role": role, "password": password})


def test_same_email_in_two_organizations_signs_in_to_each(server, two_orgs, uniq):
    a, b = two_orgs
    email = f"x-{uniq}@y.com"
    first = add(a, email, "annotator", "password of a")
    assert first.status_code == 201, first.text
    second = add(b, email.upper(), "reviewer", "password of b")
    assert second.status_code == 201, second.text  # no 409: B learns nothing about A
    assert second.json()["email"] == email
    # each organization sees only its own account
    assert [u["id"] for u in a.http.get("/api/users").json()["users"] if u["email"] == email] == [first.json()["id"]]
    assert [u["id"] for u in b.http.get("/api/users").json()["users"] if u["email"] == email] == [second.json()["id"]]
    assert [t["role"] for t in b.http.get("/v1/teams").json() if t["email"] == email] == ["member"]
    # a duplicate inside one organization is still a 409 naming email, and stores nothing
    for org in (a, b):
        dup = add(org, f" {email.title()} ", "customer", "another password")
        assert dup.status_code == 409, dup.text
        assert dup.json()["field"] == "email" and "already exists in this organization" in dup.json()["error"]
    assert query(server, "SELECT count(*) FROM users WHERE email = ?", (email,)) == [(2,)]
    # each password signs in to its own account and organization
    me_a = Browser(server).login(email, "password of a").http.get("/api/me").json()
    me_b = Browser(server).login(email, "password of b").http.get("/api/me").json()
    assert (me_a["organization"]["name"], me_a["role"]) == (a.http.get("/api/me").json()["organization"]["name"], "annotator")
    assert (me_b["organization"]["name"], me_b["role"]) == (b.http.get("/api/me").json()["organization"]["name"], "reviewer")
    assert Browser(server).try_login(email, "neither password").status_code == 401
    # with A's account deactivated, B's still signs in (and A's password no longer does)
    assert a.http.patch(f"/api/users/{first.json()['id']}", json={"active": False}).status_code == 200
    assert Browser(server).try_login(email, "password of a").status_code == 401
    assert Browser(server).login(email, "password of b").http.get("/api/me").json()["role"] == "reviewer"


BAD = ["not-an-email", "a@b", "two@@example.com", "a b@example.com", "a@exa mple.com", ".a@example.com", "a..b@example.com",
       "a@-example.com", "a@example.com-", "a@example..com", "<a>@example.com", "a@" + "x" * 64 + ".com", "a" * 65 + "@example.com",
       "a@1.2.3.4", "", "   "]
GOOD = ["o'brien+tag@mail.example.ie", "Ünïcode@bücher.example", "a_b-c@sub-domain.example.co.uk"]


def test_bad_emails_are_refused_naming_email_and_ordinary_ones_accepted(server, two_orgs):
    a, _ = two_orgs
    for email in BAD:
        r = add(a, email, "annotator", "good password")
        assert r.status_code == 400, (email, r.text)
        assert r.json()["field"] == "email" and r.json()["error"].startswith("email:"), email
        assert query(server, "SELECT count(*) FROM users WHERE email = ?", (email.strip().lower(),)) == [(0,)]
    for email in GOOD:
        r = add(a, email, "annotator", "good password")
        assert r.status_code == 201, (email, r.text)
        assert r.json()["email"] == email.lower()


def test_an_organization_with_a_long_name_still_gets_its_api_admin(server, uniq):
    """The generated API admin's address (api-admin@<name>-<id>.assay.local) stays a valid one."""
    key = server.new_key("A very long organization name, " * 5 + uniq)
    me = Org(server, key).http.get("/api/me").json()
    assert me["role"] == "admin" and me["email"].startswith("api-admin@") and me["email"].endswith(".assay.local")
