"""Property tests for the Telegram checks: random valid payloads verify, and any single change
to a signed payload (a character of any value, a dropped field, an added field, another
auth_date) is refused.

Payloads are signed here from the SPEC text, independently of the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from wagerkit.adapters.crypto import ed25519_verify
from wagerkit.domain.errors import TelegramAuthError, TelegramMalformed
from wagerkit.domain.telegram import verify_init_data, verify_login_widget

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW_TS = int(NOW.timestamp())
BOT_ID = 987654321
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC_KEY = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
RESERVED = {"hash", "signature", "auth_date", "user", "id", "first_name", "last_name"}

tokens = st.from_regex(r"[1-9][0-9]{5,10}:[A-Za-z0-9_-]{20,40}", fullmatch=True)
# Telegram never sends a raw line break in a value (JSON escapes it); one is refused as
# malformed (test_a_line_break_in_any_value_is_refused), so valid payloads have none
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n")
texts = st.text(_chars, max_size=30)
names = st.text(_chars, min_size=1, max_size=30)
keys = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True).filter(lambda k: k not in RESERVED)
auth_dates = st.integers(NOW_TS - 86_000, NOW_TS + 250)
extras = st.dictionaries(keys, texts, max_size=4)


def quoted(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs)


def webapp_hash(pairs: list[tuple[str, str]], token: str) -> str:
    check = "\n".join(f"{k}={v}" for k, v in sorted(pairs) if k != "hash")
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def widget_hash(fields: dict[str, Any], token: str) -> str:
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")
    secret = hashlib.sha256(token.encode()).digest()
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def ed25519_signature(pairs: list[tuple[str, str]]) -> str:
    lines = "\n".join(f"{k}={v}" for k, v in sorted(pairs) if k not in ("hash", "signature"))
    sig = KEY.sign(f"{BOT_ID}:WebAppData\n{lines}".encode())
    return base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


@st.composite
def webapp_pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Decoded initData fields (no hash, no signature)."""
    user = {"id": draw(st.integers(1, 2**40)), "first_name": draw(names)}
    if draw(st.booleans()):
        user["last_name"] = draw(names)
    if draw(st.booleans()):
        user["username"] = draw(st.from_regex(r"[a-z][a-z0-9_]{4,20}", fullmatch=True))
    pairs = [
        ("user", json.dumps(user, ensure_ascii=draw(st.booleans()))),
        ("auth_date", str(draw(auth_dates))),
        *draw(extras).items(),
    ]
    return draw(st.permutations(pairs))


@st.composite
def change(draw: st.DrawFn, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One change to ``pairs``: a character of a value, a dropped or added field, or
    another auth_date."""
    kind = draw(st.sampled_from(["char", "drop", "add", "auth_date"]))
    out = list(pairs)
    if kind == "drop":
        del out[draw(st.integers(0, len(out) - 1))]
    elif kind == "add":
        present = {k for k, _ in out}
        key = draw(st.sampled_from(["hash", "signature", "x", "user", "query_id"]) | keys)
        if key in present:  # an added duplicate is refused as malformed, which is also fine
            out.append((key, draw(texts)))
        else:
            out.insert(draw(st.integers(0, len(out))), (key, draw(texts)))
    elif kind == "auth_date":
        i = next(i for i, (k, _) in enumerate(out) if k == "auth_date")
        old = int(out[i][1])
        out[i] = ("auth_date", str(draw(auth_dates.filter(lambda v: v != old))))
    else:
        candidates = [i for i, (_, v) in enumerate(out) if v]
        i = draw(st.sampled_from(candidates))
        key, value = out[i]
        at = draw(st.integers(0, len(value) - 1))
        # (the hash is hexadecimal in either case: "a" -> "A" is no change)
        replacement = draw(
            st.characters(blacklist_categories=("Cs",)).filter(
                lambda c: c.lower() != value[at].lower() if key == "hash" else c != value[at]
            )
        )
        out[i] = (key, value[:at] + replacement + value[at + 1 :])
    return out


@settings(max_examples=150, deadline=None)
@given(pairs=webapp_pairs(), token=tokens, signed=st.booleans())
def test_valid_init_data_verifies(pairs: list[tuple[str, str]], token: str, signed: bool) -> None:
    if signed:
        pairs = [*pairs, ("signature", ed25519_signature(pairs))]
    data = quoted([*pairs, ("hash", webapp_hash(pairs, token))])
    ident = verify_init_data(data, now=NOW, bot_token=token)
    user = json.loads(dict(pairs)["user"])
    assert (ident.id, ident.first_name) == (user["id"], user["first_name"])
    assert ident.last_name == user.get("last_name")
    assert int(ident.auth_date.timestamp()) == int(dict(pairs)["auth_date"])
    if signed:
        both = verify_init_data(
            data,
            now=NOW,
            bot_token=token,
            bot_id=BOT_ID,
            ed25519=ed25519_verify,
            public_key=PUBLIC_KEY,
        )
        assert both == ident


@settings(max_examples=300, deadline=None)
@given(data=st.data(), pairs=webapp_pairs(), token=tokens)
def test_any_change_to_init_data_is_refused(
    data: st.DataObject, pairs: list[tuple[str, str]], token: str
) -> None:
    pairs = [*pairs, ("signature", ed25519_signature(pairs))]
    pairs = [*pairs, ("hash", webapp_hash(pairs, token))]
    changed = data.draw(change(pairs))
    with pytest.raises(TelegramAuthError):
        verify_init_data(quoted(changed), now=NOW, bot_token=token)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), pairs=webapp_pairs())
def test_any_change_to_third_party_data_is_refused(
    data: st.DataObject, pairs: list[tuple[str, str]]
) -> None:
    pairs = [*pairs, ("signature", ed25519_signature(pairs))]
    kw: dict[str, Any] = {"bot_id": BOT_ID, "ed25519": ed25519_verify, "public_key": PUBLIC_KEY}
    assert verify_init_data(quoted(pairs), now=NOW, **kw).source == "webapp"
    changed = data.draw(change(pairs))
    if [p for p in changed if p[0] != "hash"] == [p for p in pairs if p[0] != "hash"]:
        return  # only a hash was added: not part of the signed message (tested elsewhere)
    with pytest.raises(TelegramAuthError):
        verify_init_data(quoted(changed), now=NOW, **kw)


@st.composite
def widget_payloads(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": draw(st.integers(1, 2**40) | st.integers(1, 2**40).map(str)),
        "first_name": draw(names),
        "auth_date": draw(auth_dates | auth_dates.map(str)),
    }
    for optional in ("last_name", "username", "photo_url"):
        if draw(st.booleans()):
            fields[optional] = draw(names)
    fields.update(draw(extras))
    return fields


@settings(max_examples=150, deadline=None)
@given(fields=widget_payloads(), token=tokens)
def test_valid_widget_data_verifies(fields: dict[str, Any], token: str) -> None:
    ident = verify_login_widget({**fields, "hash": widget_hash(fields, token)}, token, now=NOW)
    assert ident.id == int(fields["id"])
    assert ident.first_name == fields["first_name"]
    assert ident.username == fields.get("username")


@settings(max_examples=300, deadline=None)
@given(data=st.data(), fields=widget_payloads(), token=tokens)
def test_any_change_to_widget_data_is_refused(
    data: st.DataObject, fields: dict[str, Any], token: str
) -> None:
    signed = {k: str(v) for k, v in {**fields, "hash": widget_hash(fields, token)}.items()}
    changed = data.draw(change(list(signed.items())))
    as_dict = dict(changed)
    if len(as_dict) < len(changed):  # a duplicate cannot exist in a mapping: skip that case
        return
    with pytest.raises(TelegramAuthError):
        verify_login_widget(as_dict, token, now=NOW)


@settings(max_examples=100, deadline=None)
@given(pairs=webapp_pairs(), token=tokens, other=tokens)
def test_another_token_is_refused(pairs: list[tuple[str, str]], token: str, other: str) -> None:
    data = quoted([*pairs, ("hash", webapp_hash(pairs, token))])
    if other != token:
        with pytest.raises(TelegramAuthError):
            verify_init_data(data, now=NOW, bot_token=other)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), pairs=webapp_pairs(), token=tokens)
def test_a_line_break_in_any_value_is_refused(
    data: st.DataObject, pairs: list[tuple[str, str]], token: str
) -> None:
    """Even correctly signed: a raw line break makes the data-check string ambiguous."""
    i = data.draw(st.integers(0, len(pairs) - 1))
    key, value = pairs[i]
    at = data.draw(st.integers(0, len(value)))
    pairs = [*pairs[:i], (key, value[:at] + "\n" + value[at:]), *pairs[i + 1 :]]
    signed = quoted([*pairs, ("hash", webapp_hash(pairs, token))])
    with pytest.raises(TelegramMalformed):
        verify_init_data(signed, now=NOW, bot_token=token)
