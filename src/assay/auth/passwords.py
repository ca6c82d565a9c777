"""Passwords: scrypt hashes, verified with uniform cost, always off the event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import hmac
import os
import secrets

from assay.config import get_settings

LEGACY_COST = 14  # hashes stored as scrypt$salt$digest, before the cost was kept in them
MIN_COST, MAX_COST = 10, 16


def _scrypt(password: str, salt: bytes, cost: int) -> bytes:
    # r=8: 128 * 8 * 2**cost bytes of memory (16 MiB at 14); maxmem leaves room above it
    return hashlib.scrypt(password.encode(), salt=salt, n=2**cost, r=8, p=1, maxmem=2**(cost + 11))


def hash_password(password: str) -> str:
    """A scrypt hash at ASSAY_PASSWORD_HASH_COST (by default 16 MiB and tens of
    milliseconds of CPU: call it off the event loop, see `run_password_work`), stored
    as scrypt$cost$salt$digest so that a later change of the setting keeps it working."""
    cost = get_settings().password_hash_cost
    salt = secrets.token_bytes(16)
    return f"scrypt${cost}${salt.hex()}${_scrypt(password, salt, cost).hex()}"


def _scrypt_parts(stored: str | None) -> tuple[int, bytes, str] | None:
    """(cost, salt, hex digest) of a well-formed scrypt hash, else None."""
    parts = stored.split("$") if stored else []
    if len(parts) == 3:
        parts = [parts[0], str(LEGACY_COST), parts[1], parts[2]]
    if len(parts) != 4 or parts[0] != "scrypt" or not parts[1].isdigit() or not MIN_COST <= int(parts[1]) <= MAX_COST:
        return None
    try:
        return int(parts[1]), bytes.fromhex(parts[2]), parts[3]
    except ValueError:
        return None


@functools.cache
def _dummy_hash(cost: int) -> str:
    """Verified when there is no account to verify against, so an unknown e-mail costs
    the same scrypt work as a known one. A random salt and digest: no password matches it."""
    return f"scrypt${cost}${secrets.token_hex(16)}${secrets.token_hex(64)}"


def dummy_password_hash() -> str:
    return _dummy_hash(get_settings().password_hash_cost)


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches `stored`. Always runs one scrypt: an account without a
    (well-formed) password is checked against the dummy hash and then refused, so it
    answers as slowly as any other."""
    parsed = _scrypt_parts(stored)
    cost, salt, digest_hex = parsed or _scrypt_parts(dummy_password_hash())
    digest = _scrypt(password, salt, cost)
    return hmac.compare_digest(digest.hex(), digest_hex) and parsed is not None


# threads start on first use
_password_pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) // 2), thread_name_prefix="assay-password")


async def run_password_work(fn, *args):
    """Run password hashing or verification (`fn(*args)`) off the event loop, where
    scrypt would stall every other request. Its own few threads: a burst of sign-ins
    queues there instead of taking the thread pool the synchronous handlers run in."""
    return await asyncio.get_running_loop().run_in_executor(_password_pool, functools.partial(fn, *args))
