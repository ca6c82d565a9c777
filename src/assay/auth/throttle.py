"""Sign-in throttling with the `limits` package, in memory (so per process): failed
attempts per account (the e-mail, known or not) and attempts per client address."""

from __future__ import annotations

import asyncio
import math
import time
from contextlib import asynccontextmanager
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from assay.config import get_settings


@lru_cache(maxsize=1)
def _limiter() -> MovingWindowRateLimiter:
    """The process's counters (made on first use: CLI commands never need them)."""
    return MovingWindowRateLimiter(MemoryStorage())


@lru_cache(maxsize=8)
def _limit(text: str) -> RateLimitItem:
    return parse(text)


def _retry_after(item: RateLimitItem, *key: str) -> int:
    """Seconds until the moving window lets the next attempt through (at least 1)."""
    reset = _limiter().get_window_stats(item, *key).reset_time
    return max(1, math.ceil(reset - time.time()))


def address_attempt(address: str) -> int | None:
    """Count a sign-in attempt from this client address; None when it may proceed, else
    the seconds to wait."""
    item = _limit(get_settings().login_address_limit)
    if _limiter().hit(item, "login-address", address):
        return None
    return _retry_after(item, "login-address", address)


def account_key(email) -> str:
    return email.strip().lower()[:320] if isinstance(email, str) else ""


def account_locked(account: str) -> int | None:
    """None when this account may try again, else the seconds to wait (too many failures)."""
    item = _limit(get_settings().login_account_limit)
    if _limiter().test(item, "login-account", account):
        return None
    return _retry_after(item, "login-account", account)


def account_failed(account: str) -> None:
    _limiter().hit(_limit(get_settings().login_account_limit), "login-account", account)


_gates: dict[str, list] = {}


@asynccontextmanager
async def account_gate(account: str):
    """One sign-in at a time per account in this process, so concurrent guesses cannot all
    pass the failure check before the first of them is counted."""
    gate = _gates.setdefault(account, [asyncio.Lock(), 0])
    gate[1] += 1
    try:
        async with gate[0]:
            yield
    finally:
        gate[1] -= 1
        if gate[1] == 0:
            _gates.pop(account, None)
