"""Verified access tokens are remembered, but every use still checks their times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wagerkit.adapters.tokens import JwtTokenService
from wagerkit.domain.errors import TokenExpired, TokenInvalid

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_a_remembered_token_still_expires() -> None:
    svc = JwtTokenService("k" * 32, lifetime=timedelta(minutes=10))
    token = svc.issue(7, now=NOW, version="v1")
    assert svc.verify(token, now=NOW) == (7, "v1")
    assert svc.verify(token, now=NOW + timedelta(minutes=9)) == (7, "v1")  # from memory
    with pytest.raises(TokenExpired):
        svc.verify(token, now=NOW + timedelta(minutes=10))


def test_a_remembered_token_is_still_refused_before_it_was_issued() -> None:
    svc = JwtTokenService("k" * 32)
    token = svc.issue(7, now=NOW)
    svc.verify(token, now=NOW)
    with pytest.raises(TokenInvalid):
        svc.verify(token, now=NOW - timedelta(minutes=6))


def test_tampering_with_a_remembered_token_is_refused() -> None:
    svc = JwtTokenService("k" * 32)
    token = svc.issue(7, now=NOW)
    svc.verify(token, now=NOW)
    head, payload, sig = token.split(".")
    forged = f"{head}.{payload}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    with pytest.raises(TokenInvalid):
        svc.verify(forged, now=NOW)


def test_another_key_never_accepts_a_token_remembered_by_this_one() -> None:
    one, other = JwtTokenService("k" * 32), JwtTokenService("j" * 32)
    token = one.issue(7, now=NOW)
    one.verify(token, now=NOW)
    with pytest.raises(TokenInvalid):
        other.verify(token, now=NOW)
