"""ASSAY_AUTH_CACHE_SECONDS: how long a process keeps the principal of an API key before it
reads the database again. A revocation made elsewhere (another app process, the CLI) is
a row change this process does not hear about: it applies once the cached entry ends."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assay.auth import principals
from assay.config import reset_settings
from assay.orgs import service as orgs
from assay.orgs.models import Organization, User


def _key_revoked_elsewhere(world) -> str:
    """A key resolved once (so cached here), then revoked without telling this process."""
    with world.db.write() as session:
        key = orgs.create_key(session, session.get(User, world.admin.user_id)).key
    assert principals.principal_for_key(key).org_id == world.org.id
    with world.db.write() as session:
        assert orgs.revoke_key(session, session.get(Organization, world.org.id).id, key[:12]) == 1
    return key


@pytest.fixture()
def cache_seconds(monkeypatch):
    def set_to(seconds: str) -> None:
        monkeypatch.setenv("ASSAY_AUTH_CACHE_SECONDS", seconds)
        reset_settings()
        principals.forget_all()

    yield set_to
    principals.forget_all()


def test_a_cached_key_outlives_a_revocation_made_elsewhere_until_its_entry_ends(service_world, cache_seconds):
    cache_seconds("300")
    key = _key_revoked_elsewhere(service_world)
    assert principals.principal_for_key(key) is not None  # served from this process's cache
    principals.forget_all()  # the entry ends
    assert principals.principal_for_key(key) is None


def test_zero_reads_the_database_on_every_request(service_world, cache_seconds):
    cache_seconds("0")
    key = _key_revoked_elsewhere(service_world)
    assert principals.principal_for_key(key) is None


@pytest.mark.parametrize("value", ["-1", "301", "soon"])
def test_a_bad_value_is_refused_naming_the_setting(value, monkeypatch):
    from assay.config import get_settings

    monkeypatch.setenv("ASSAY_AUTH_CACHE_SECONDS", value)
    reset_settings()
    try:
        with pytest.raises(ValidationError) as caught:
            get_settings()
        assert "auth_cache_seconds" in str(caught.value).lower()
    finally:
        monkeypatch.undo()
        reset_settings()
