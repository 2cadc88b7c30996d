"""The rule that tells a JWT from Mini App initData in ``Authorization: Bearer`` (docs/auth.md):
every access token wagerkit issues is JWT-shaped, and no initData is, whatever its fields."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from wagerkit.adapters.tokens import JwtTokenService
from wagerkit_http.auth import is_jwt

sys.path.insert(0, str(Path(__file__).parents[1] / "http"))
from authkit import init_data

SECRETS = {"HS256": "k" * 32, "HS384": "k" * 48, "HS512": "k" * 64}
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=50)
@given(
    st.sampled_from(sorted(SECRETS)),
    st.integers(1, 2**53),
    st.text(max_size=40),
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1)),
)
def test_every_issued_token_is_jwt_shaped(
    algorithm: str, user_id: int, version: str, when: datetime
) -> None:
    tokens = JwtTokenService(SECRETS[algorithm], algorithm=algorithm, lifetime=timedelta(hours=1))
    token = tokens.issue(user_id, now=when.replace(tzinfo=UTC), version=version)
    assert is_jwt(token)
    assert "=" not in token


@settings(max_examples=100)
@given(
    st.integers(1, 2**52),
    names,
    st.one_of(st.none(), names),
    st.lists(st.tuples(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), names), max_size=3),
)
def test_no_init_data_is_jwt_shaped(
    tg_id: int, first_name: str, username: str | None, extra: list[tuple[str, str]]
) -> None:
    user = {"id": tg_id, "first_name": first_name}
    if username is not None:
        user["username"] = username
    pairs = [
        ("auth_date", "1700000000"),
        ("user", json.dumps(user, ensure_ascii=False)),
        *[(k, v) for k, v in extra if k not in ("auth_date", "user", "hash", "signature")],
    ]
    data = init_data(pairs)
    assert not is_jwt(data)
    assert "=" in data  # so a Bearer credential like this one takes the initData path
