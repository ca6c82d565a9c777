"""Passwords: scrypt hashes, verified with uniform cost, always off the event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import hmac
import os
import secrets


def hash_password(password: str) -> str:
    """A scrypt hash (about 16 MiB and tens of milliseconds of CPU: call it off the event
    loop: see `run_password_work`)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


# Verified when there is no account to verify against, so an unknown e-mail costs the same
# scrypt work as a known one. A random salt and digest: no password matches it.
DUMMY_PASSWORD_HASH = f"scrypt${secrets.token_hex(16)}${secrets.token_hex(64)}"


def _scrypt_parts(stored: str | None) -> tuple[bytes, str] | None:
    """(salt, hex digest) of a well-formed scrypt hash, else None."""
    parts = stored.split("$") if stored else []
    if len(parts) != 3 or parts[0] != "scrypt":
        return None
    try:
        return bytes.fromhex(parts[1]), parts[2]
    except ValueError:
        return None


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches `stored`. Always runs one scrypt: an account without a
    (well-formed) password is checked against the dummy hash and then refused, so it
    answers as slowly as any other."""
    parsed = _scrypt_parts(stored)
    salt, digest_hex = parsed or _scrypt_parts(DUMMY_PASSWORD_HASH)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return hmac.compare_digest(digest.hex(), digest_hex) and parsed is not None


# threads start on first use
_password_pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) // 2), thread_name_prefix="assay-password")


async def run_password_work(fn, *args):
    """Run password hashing or verification (`fn(*args)`) off the event loop, where
    scrypt would stall every other request. Its own few threads: a burst of sign-ins
    queues there instead of taking the thread pool the synchronous handlers run in."""
    return await asyncio.get_running_loop().run_in_executor(_password_pool, functools.partial(fn, *args))
