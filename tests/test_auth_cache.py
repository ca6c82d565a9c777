"""ASSAY_AUTH_CACHE_SECONDS: how long a process keeps the principal of an API key or a
browser session before it reads the database again. A revocation made elsewhere (another
app process, the CLI) is a row change this process does not hear about: it applies once
the cached entry ends."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import delete

from assay.auth import principals, sessions
from assay.config import get_settings, reset_settings
from assay.orgs import service as orgs
from assay.orgs.models import User, UserSession


def _key_revoked_elsewhere(world):
    """An API key resolved once (so cached here), then revoked without telling this
    process; → a function that resolves it again."""
    with world.db.write() as session:
        key = orgs.create_key(session, session.get(User, world.admin.user_id)).key
    assert principals.principal_for_key(key).org_id == world.org.id
    with world.db.write() as session:
        assert orgs.revoke_key(session, world.org.id, key[:12]) == 1
    return lambda: principals.principal_for_key(key)


def _session_ended_elsewhere(world):
    """A browser session resolved once, then its row deleted without telling this process."""
    with world.db.write() as session:
        token, _ = sessions.create(session, session.get(User, world.admin.user_id))
    assert principals.session_for_token(token).principal.user_id == world.admin.user_id
    with world.db.write() as session:
        session.execute(delete(UserSession).where(UserSession.token_hash == principals.token_digest(token)))
    return lambda: principals.session_for_token(token)


REVOKED_ELSEWHERE = [_key_revoked_elsewhere, _session_ended_elsewhere]


@pytest.fixture()
def cache_seconds(monkeypatch):
    def set_to(seconds: str) -> None:
        monkeypatch.setenv("ASSAY_AUTH_CACHE_SECONDS", seconds)
        reset_settings()
        principals.forget_all()

    yield set_to
    monkeypatch.delenv("ASSAY_AUTH_CACHE_SECONDS")
    reset_settings()
    principals.forget_all()


@pytest.mark.parametrize("revoked_elsewhere", REVOKED_ELSEWHERE)
def test_a_cached_principal_outlives_a_revocation_made_elsewhere_until_its_entry_ends(service_world, cache_seconds,
                                                                                     revoked_elsewhere):
    cache_seconds("300")
    resolve = revoked_elsewhere(service_world)
    assert resolve() is not None  # served from this process's cache
    principals.forget_all()  # the entry ends
    assert resolve() is None


@pytest.mark.parametrize("revoked_elsewhere", REVOKED_ELSEWHERE)
def test_zero_reads_the_database_on_every_request(service_world, cache_seconds, revoked_elsewhere):
    cache_seconds("0")
    resolve = revoked_elsewhere(service_world)
    assert resolve() is None


@pytest.mark.parametrize("value", ["-1", "301", "soon"])
def test_a_bad_value_is_refused_naming_the_setting(value, cache_seconds):
    with pytest.raises(ValidationError) as caught:
        cache_seconds(value)
        get_settings()
    assert "auth_cache_seconds" in str(caught.value).lower()
