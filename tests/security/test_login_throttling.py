"""Sign-in throttling: failed attempts per account and attempts per client address are
limited; past a limit even the right password is refused with 429 and Retry-After until
the window lets an attempt through. Addresses are told apart by X-Forwarded-For, which
uvicorn believes from 127.0.0.1 (a reverse proxy's position). The limits live in the
server process's memory, so the database does not matter: SQLite servers."""

from __future__ import annotations

import time
import uuid

from tests.browser import Org
from tests.security.support import Browser


def test_failed_sign_ins_lock_that_account_only(sqlite_server):
    srv = sqlite_server()  # the default limits: 10 failures per account per 15 minutes
    org = Org(srv)
    alice, bob = org.person("annotator"), org.person("annotator")
    here = Browser(srv, "203.0.113.10")
    for _ in range(10):
        assert here.try_login(alice.email, "wrong password").status_code == 401
    refused = here.try_login(alice.email, alice.password)
    assert refused.status_code == 429, refused.text
    assert "Too many sign-in attempts for this account" in refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 15 * 60
    assert "assay_session" not in refused.cookies and "assay_session" not in here.http.cookies
    # the limit is the account's, whatever the address
    elsewhere = Browser(srv, "198.51.100.20")
    assert elsewhere.try_login(alice.email, alice.password).status_code == 429
    # another account is not locked by alice's failures, from the same address
    assert here.login(bob.email, bob.password).me() == 200
    # an e-mail nobody has is locked the same way: the answers do not tell which exist
    ghost = f"ghost-{uuid.uuid4().hex[:8]}@example.com"
    answers = [Browser(srv, "203.0.113.11").try_login(ghost, "wrong password").status_code for _ in range(11)]
    assert answers == [401] * 10 + [429]


def test_too_many_attempts_from_one_address_are_refused(sqlite_server):
    srv = sqlite_server(ASSAY_LOGIN_ADDRESS_LIMIT="6/minute")
    org = Org(srv)
    alice, bob = org.person("annotator"), org.person("annotator")
    here = Browser(srv, "203.0.113.30")
    # five failures on five different (unknown) accounts: no account limit is near
    for i in range(5):
        assert here.try_login(f"nobody{i}-{uuid.uuid4().hex[:6]}@example.com", "wrong password").status_code == 401
    assert here.try_login(alice.email, alice.password).status_code == 303  # the sixth attempt
    refused = Browser(srv, "203.0.113.30").try_login(bob.email, bob.password)
    assert refused.status_code == 429, refused.text
    assert "Too many sign-in attempts from your address" in refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # bob's account is not locked: from another address he signs in
    assert Browser(srv, "203.0.113.31").login(bob.email, bob.password).me() == 200


def test_the_account_opens_again_when_the_window_has_passed(sqlite_server):
    srv = sqlite_server(ASSAY_LOGIN_ACCOUNT_LIMIT="3/3 seconds")
    carol = Org(srv).person("annotator")
    browser = Browser(srv, "203.0.113.40")
    for _ in range(3):
        assert browser.try_login(carol.email, "wrong password").status_code == 401
    refused = browser.try_login(carol.email, carol.password)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 3
    time.sleep(retry_after + 0.5)  # waits as long as the server said; nothing is measured
    assert browser.login(carol.email, carol.password).me() == 200
