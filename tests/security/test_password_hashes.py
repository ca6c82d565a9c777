"""Password hashes: scrypt at ASSAY_PASSWORD_HASH_COST, the cost kept in each hash so a
change of the setting (the suite runs at 10) leaves every stored password working."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from assay.auth.passwords import dummy_password_hash, hash_password, verify_password
from assay.config import Settings, reset_settings


@pytest.fixture()
def cost(monkeypatch):
    def set_cost(value: int | None) -> None:
        if value is None:
            monkeypatch.delenv("ASSAY_PASSWORD_HASH_COST", raising=False)
        else:
            monkeypatch.setenv("ASSAY_PASSWORD_HASH_COST", str(value))
        reset_settings()

    yield set_cost
    reset_settings()


def test_the_default_is_scrypt_n_2_to_the_14(cost):
    cost(None)
    stored = hash_password("correct horse")
    kind, n, salt, digest = stored.split("$")
    assert (kind, n) == ("scrypt", "14")
    assert bytes.fromhex(digest) == hashlib.scrypt(b"correct horse", salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    assert verify_password("correct horse", stored) and not verify_password("correct horsE", stored)


def test_a_hash_keeps_its_cost_when_the_setting_changes(cost):
    cost(10)
    cheap = hash_password("pw one")
    assert cheap.startswith("scrypt$10$")
    cost(12)
    assert verify_password("pw one", cheap) and not verify_password("pw two", cheap)
    assert hash_password("pw one").startswith("scrypt$12$")


def test_a_hash_stored_before_the_cost_was_kept_still_verifies(cost):
    cost(10)
    salt = secrets.token_bytes(16)
    legacy = f"scrypt${salt.hex()}${hashlib.scrypt(b'old password', salt=salt, n=2**14, r=8, p=1).hex()}"
    assert verify_password("old password", legacy) and not verify_password("old passwore", legacy)


@pytest.mark.parametrize("stored", [None, "", "scrypt$", "bcrypt$14$00$00", "scrypt$40$00$00", "scrypt$9$00$00", "scrypt$x$00$00",
                                    "scrypt$14$zz$00", "scrypt$14$00"])
def test_a_malformed_or_out_of_range_hash_never_matches(cost, stored):
    # an absurd cost is refused before scrypt would try to allocate it
    cost(10)
    assert verify_password("", stored) is False and verify_password("anything", stored) is False


def test_the_dummy_hash_costs_what_a_new_hash_costs(cost):
    cost(11)
    assert dummy_password_hash().startswith("scrypt$11$")
    assert not verify_password("", dummy_password_hash())


@pytest.mark.parametrize("value", ["9", "17", "fourteen"])
def test_a_cost_outside_10_to_16_is_refused_naming_the_setting(monkeypatch, value):
    monkeypatch.setenv("ASSAY_PASSWORD_HASH_COST", value)
    with pytest.raises(ValidationError, match="password_hash_cost"):
        Settings()


@settings(max_examples=15, deadline=None)
@given(password=st.text(max_size=40), other=st.text(max_size=40))
def test_only_the_same_password_verifies(password, other):
    stored = hash_password(password)
    assert verify_password(password, stored)
    assert verify_password(other, stored) is (other == password)
