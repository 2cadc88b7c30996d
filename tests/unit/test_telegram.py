"""Telegram sign-in checks (SPEC section 2): the Login Widget and Mini App initData.

Valid data is built here the way Telegram builds it, from the SPEC text alone (``sign_widget``,
``sign_init_data``, ``sign_ed25519``), never with the code under test. Ed25519 signatures are
made with a key pair generated in the test (we cannot sign with Telegram's key); one vector
published with the @telegram-apps/init-data-node docs checks Telegram's real production key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from wagerkit.adapters.crypto import ed25519_verify
from wagerkit.domain.errors import (
    TelegramAuthError,
    TelegramBadHash,
    TelegramBadSignature,
    TelegramExpired,
    TelegramMalformed,
    TelegramMissingUser,
)
from wagerkit.domain.telegram import (
    PRODUCTION_PUBLIC_KEY,
    TEST_PUBLIC_KEY,
    TelegramIdentity,
    verify_init_data,
    verify_login_widget,
)

TOKEN = "123456789:AAF-test_token_for-wagerkit"
OTHER_TOKEN = "123456789:AAF-another_token-xyz"
BOT_ID = 123456789
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AUTH = int(NOW.timestamp()) - 60

Pairs = Sequence[tuple[str, str]]


# -- how Telegram signs (written from SPEC section 2) ---------------------------------------


def sign_widget(fields: dict[str, Any], token: str) -> dict[str, Any]:
    """Login Widget: secret = SHA-256(token); hash = hex HMAC-SHA-256 over the sorted
    ``key=value`` lines of every field except ``hash``."""
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")
    secret = hashlib.sha256(token.encode()).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return {**fields, "hash": digest}


def webapp_hash(pairs: Pairs, token: str) -> str:
    check = "\n".join(f"{k}={v}" for k, v in sorted(pairs) if k != "hash")
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def encode(pairs: Pairs) -> str:
    """A query string with every value percent-encoded as Telegram does."""
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs)


def sign_init_data(pairs: Pairs, token: str) -> str:
    """initData: the (decoded) pairs plus ``hash`` (HMAC over every field but ``hash``,
    ``signature`` included), URL-encoded."""
    return encode([*pairs, ("hash", webapp_hash(pairs, token))])


def sign_ed25519(pairs: Pairs, bot_id: int, key: Ed25519PrivateKey) -> str:
    """The third-party ``signature``: Ed25519 over ``"{bot_id}:WebAppData\\n"`` + the sorted
    lines without ``hash`` and ``signature``, base64url without padding."""
    lines = "\n".join(f"{k}={v}" for k, v in sorted(pairs) if k not in ("hash", "signature"))
    sig = key.sign(f"{bot_id}:WebAppData\n{lines}".encode())
    return base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


def user_json(**over: Any) -> str:
    user = {"id": 279058397, "first_name": "Vlad", "last_name": "K", "username": "vk"}
    user.update({"language_code": "en", "is_premium": True, **over})
    return json.dumps(user, separators=(",", ":"), ensure_ascii=False)


def base_pairs(auth_date: int = AUTH, **user: Any) -> list[tuple[str, str]]:
    return [
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
        ("user", user_json(**user)),
        ("auth_date", str(auth_date)),
        ("chat_type", "private"),
        ("chat_instance", "-8134722200314281151"),
    ]


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def public_key(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def signed_pairs(key: Ed25519PrivateKey, **user: Any) -> list[tuple[str, str]]:
    pairs = base_pairs(**user)
    return [*pairs, ("signature", sign_ed25519(pairs, BOT_ID, key))]


def widget_fields(auth_date: int = AUTH, **over: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": 279058397,
        "first_name": "Vlad",
        "last_name": "K",
        "username": "vk",
        "photo_url": "https://t.me/i/userpic/320/x.jpg",
        "auth_date": auth_date,
    }
    fields.update(over)
    return fields


def webapp(init_data: str, **kw: Any) -> TelegramIdentity:
    kw.setdefault("now", NOW)
    kw.setdefault("bot_token", TOKEN)
    return verify_init_data(init_data, **kw)


def third_party(init_data: str, public_key: bytes, **kw: Any) -> TelegramIdentity:
    kw.setdefault("now", NOW)
    return verify_init_data(
        init_data, bot_id=BOT_ID, ed25519=ed25519_verify, public_key=public_key, **kw
    )


def flip(text: str, at: int = 0) -> str:
    """``text`` with one character changed."""
    c = text[at]
    return text[:at] + ("B" if c == "A" else "A") + text[at + 1 :]


# -- constants ------------------------------------------------------------------------------


def test_telegram_public_keys_are_the_published_ones() -> None:
    assert PRODUCTION_PUBLIC_KEY.hex() == (
        "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d"
    )
    assert TEST_PUBLIC_KEY.hex() == (
        "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec"
    )


# A vector published with @telegram-apps/init-data-node (docs and tests): signed by Telegram
# for bot 7342037359 with the production key, and with that sample bot token's HMAC.
PUBLISHED_TOKEN = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4"
PUBLISHED = (
    "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20"
    "%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22"
    "vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C"
    "%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2F"
    "t.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKo"
    "LDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&"
    "auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-"
    "X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg&hash="
    "a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73"
)
PUBLISHED_AT = datetime.fromtimestamp(1733509682, UTC)


def test_published_vector_verifies_with_telegrams_production_key() -> None:
    ident = verify_init_data(
        PUBLISHED,
        now=PUBLISHED_AT + timedelta(minutes=1),
        bot_token=PUBLISHED_TOKEN,
        bot_id=7342037359,
        ed25519=ed25519_verify,
    )
    assert ident == TelegramIdentity(
        id=279058397,
        first_name="Vladislav + - ? /",
        last_name="Kibenko",
        username="vdkfrost",
        photo_url="https://t.me/i/userpic/320/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg",
        language_code="ru",
        auth_date=PUBLISHED_AT,
        source="webapp",
    )
    later = PUBLISHED_AT + timedelta(minutes=1)
    with pytest.raises(TelegramBadSignature):  # the test key did not sign it
        verify_init_data(
            PUBLISHED,
            now=later,
            bot_id=7342037359,
            ed25519=ed25519_verify,
            public_key=TEST_PUBLIC_KEY,
        )
    with pytest.raises(TelegramBadSignature):  # another bot's id
        verify_init_data(PUBLISHED, now=later, bot_id=7342037358, ed25519=ed25519_verify)


# -- Login Widget ---------------------------------------------------------------------------


def test_widget_valid_data_gives_the_user() -> None:
    ident = verify_login_widget(sign_widget(widget_fields(), TOKEN), TOKEN, now=NOW)
    assert ident == TelegramIdentity(
        id=279058397,
        first_name="Vlad",
        last_name="K",
        username="vk",
        photo_url="https://t.me/i/userpic/320/x.jpg",
        language_code=None,
        auth_date=datetime.fromtimestamp(AUTH, UTC),
        source="widget",
    )
    assert ident.auth_date.tzinfo is UTC
    assert ident.display_name == "Vlad K"


def test_widget_accepts_string_values_and_only_the_fields_received() -> None:
    fields = {"id": "42", "first_name": "Ann", "auth_date": str(AUTH)}
    ident = verify_login_widget(sign_widget(fields, TOKEN), TOKEN, now=NOW)
    assert (ident.id, ident.last_name, ident.username, ident.photo_url) == (42, None, None, None)
    # an upper-case hash is the same hash
    signed = sign_widget(fields, TOKEN)
    signed["hash"] = signed["hash"].upper()
    assert verify_login_widget(signed, TOKEN, now=NOW).id == 42


@pytest.mark.parametrize("field", ["id", "first_name", "last_name", "username", "photo_url"])
def test_widget_each_field_tampered_is_refused(field: str) -> None:
    signed = sign_widget(widget_fields(), TOKEN)
    signed[field] = str(signed[field]) + "1"
    with pytest.raises(TelegramBadHash) as err:
        verify_login_widget(signed, TOKEN, now=NOW)
    assert TOKEN not in str(err.value)
    assert signed["hash"] not in str(err.value)


def test_widget_auth_date_hash_field_added_and_dropped_are_refused() -> None:
    signed = sign_widget(widget_fields(), TOKEN)
    for changed in (
        {**signed, "auth_date": AUTH + 1},
        {**signed, "extra": "x"},
        {k: v for k, v in signed.items() if k != "last_name"},
        {**signed, "hash": flip(signed["hash"], 10)},
    ):
        with pytest.raises(TelegramBadHash):
            verify_login_widget(changed, TOKEN, now=NOW)


def test_widget_wrong_token_is_refused_without_leaking_it() -> None:
    signed = sign_widget(widget_fields(), TOKEN)
    with pytest.raises(TelegramBadHash) as err:
        verify_login_widget(signed, OTHER_TOKEN, now=NOW)
    detail = err.value.detail
    assert OTHER_TOKEN not in detail
    assert TOKEN not in detail
    assert (
        hmac.new(hashlib.sha256(OTHER_TOKEN.encode()).digest(), b"", "sha256").hexdigest()[:8]
        not in detail
    )
    # the Mini App secret is another one: Widget data does not verify as initData
    with pytest.raises(TelegramBadHash):
        webapp(encode([(k, str(v)) for k, v in signed.items()]))


def test_widget_stale_and_future_auth_date() -> None:
    stale = sign_widget(widget_fields(auth_date=int(NOW.timestamp()) - 86401), TOKEN)
    with pytest.raises(TelegramExpired, match="older than 1 day"):
        verify_login_widget(stale, TOKEN, now=NOW)
    just_in = sign_widget(widget_fields(auth_date=int(NOW.timestamp()) - 86400), TOKEN)
    assert verify_login_widget(just_in, TOKEN, now=NOW).id == 279058397
    future = sign_widget(widget_fields(auth_date=int(NOW.timestamp()) + 301), TOKEN)
    with pytest.raises(TelegramExpired, match="in the future"):
        verify_login_widget(future, TOKEN, now=NOW)
    skewed = sign_widget(widget_fields(auth_date=int(NOW.timestamp()) + 300), TOKEN)
    assert verify_login_widget(skewed, TOKEN, now=NOW).id == 279058397
    for data in (stale, future):
        assert verify_login_widget(data, TOKEN, now=NOW, ignore_expiry=True).id == 279058397
    short = sign_widget(widget_fields(auth_date=int(NOW.timestamp()) - 3601), TOKEN)
    with pytest.raises(TelegramExpired, match="older than 1 hour"):
        verify_login_widget(short, TOKEN, now=NOW, max_age=timedelta(hours=1))


def test_widget_names_with_special_characters_verify() -> None:
    fields = widget_fields(first_name="A+B=C&D%20 ё日本", last_name="Ñoño 🎲", username="x_y")
    ident = verify_login_widget(sign_widget(fields, TOKEN), TOKEN, now=NOW)
    assert (ident.first_name, ident.last_name) == ("A+B=C&D%20 ё日本", "Ñoño 🎲")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "empty"),
        ({"id": 1, "auth_date": AUTH}, "no hash"),
        ({"id": 1, "auth_date": AUTH, "hash": "ab" * 31}, "64 hexadecimal"),
        ({"id": 1, "auth_date": AUTH, "hash": "zz" * 32}, "64 hexadecimal"),
        ({"id": 1, "auth_date": AUTH, "hash": 5}, "64 hexadecimal"),
        ({"id": 1, "hash": "ab" * 32}, "no auth_date"),
        ({"id": 1, "auth_date": "-5", "hash": "ab" * 32}, "not an integer"),
        ({"id": 1, "auth_date": "1.5", "hash": "ab" * 32}, "not an integer"),
        ({"id": 1, "auth_date": " 15", "hash": "ab" * 32}, "not an integer"),
        ({"id": True, "auth_date": AUTH, "hash": "ab" * 32}, "string or an integer"),
        ({"id": None, "auth_date": AUTH, "hash": "ab" * 32}, "string or an integer"),
        ({"id": 1.0, "auth_date": AUTH, "hash": "ab" * 32}, "string or an integer"),
        ({"id": [1], "auth_date": AUTH, "hash": "ab" * 32}, "string or an integer"),
        ({"id": {"a": 1}, "auth_date": AUTH, "hash": "ab" * 32}, "string or an integer"),
        ({"id": 10**30, "auth_date": AUTH, "hash": "ab" * 32}, "out of range"),
        ({"a=b": "1", "auth_date": AUTH, "hash": "ab" * 32}, "field names"),
        ({"": "1", "auth_date": AUTH, "hash": "ab" * 32}, "field names"),
        ({f"f{i}": "1" for i in range(33)}, "more than 32 fields"),
        ({"id": 1, "first_name": "x" * 9000, "hash": "ab" * 32}, "larger than 8192"),
    ],
)
def test_widget_malformed_data_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(TelegramMalformed, match=message):
        verify_login_widget(fields, TOKEN, now=NOW)


def test_widget_missing_or_invalid_user_id() -> None:
    for fields in (
        {"first_name": "Ann", "auth_date": AUTH},
        {"id": "0", "auth_date": AUTH},
        {"id": "-3", "auth_date": AUTH},
        {"id": "abc", "auth_date": AUTH},
        {"id": str(2**63), "auth_date": AUTH},
    ):
        with pytest.raises(TelegramMissingUser):
            verify_login_widget(sign_widget(fields, TOKEN), TOKEN, now=NOW)


def test_programming_errors_are_not_telegram_errors() -> None:
    signed = sign_widget(widget_fields(), TOKEN)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_login_widget(signed, TOKEN, now=datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="bot_token"):
        verify_login_widget(signed, "", now=NOW)
    with pytest.raises(ValueError, match="bot_token, bot_id"):
        verify_init_data("a=1", now=NOW)
    with pytest.raises(ValueError, match="bot_id"):
        verify_init_data("a=1", now=NOW, bot_id=0, ed25519=ed25519_verify)


# -- Mini App initData: the HMAC --------------------------------------------------------------


def test_init_data_valid_gives_the_user() -> None:
    ident = webapp(sign_init_data(base_pairs(), TOKEN))
    assert ident == TelegramIdentity(
        id=279058397,
        first_name="Vlad",
        last_name="K",
        username="vk",
        photo_url=None,
        language_code="en",
        auth_date=datetime.fromtimestamp(AUTH, UTC),
        source="webapp",
    )


def test_init_data_signature_is_part_of_the_hmac(key: Ed25519PrivateKey) -> None:
    pairs = signed_pairs(key)
    data = sign_init_data(pairs, TOKEN)
    assert webapp(data).id == 279058397
    signature = dict(pairs)["signature"]
    # removed: the HMAC was computed with it, so it no longer matches
    with pytest.raises(TelegramBadHash):
        webapp(data.replace(f"&signature={signature}", ""))
    with pytest.raises(TelegramBadHash):
        webapp(data.replace(signature, flip(signature, 5)))
    # an HMAC computed without the signature field does not match data that carries it
    without = [p for p in pairs if p[0] != "signature"]
    wrong = encode([*pairs, ("hash", webapp_hash(without, TOKEN))])
    with pytest.raises(TelegramBadHash):
        webapp(wrong)


@pytest.mark.parametrize("field", ["query_id", "user", "auth_date", "chat_type", "chat_instance"])
def test_init_data_each_field_tampered_is_refused(field: str) -> None:
    pairs = base_pairs()
    data = sign_init_data(pairs, TOKEN)
    value = dict(pairs)[field]
    tampered = dict(pairs)
    tampered[field] = value.replace("1", "2", 1) if "1" in value else value + "x"
    assert tampered[field] != value
    forged = encode([*tampered.items(), ("hash", dict(_parse(data))["hash"])])
    with pytest.raises(TelegramBadHash):
        webapp(forged)


def _parse(data: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(data, keep_blank_values=True)


def test_init_data_added_dropped_and_wrong_token_are_refused() -> None:
    pairs = base_pairs()
    data = sign_init_data(pairs, TOKEN)
    h = dict(_parse(data))["hash"]
    for forged in (
        encode([*pairs, ("start_param", "x"), ("hash", h)]),
        encode([*pairs[1:], ("hash", h)]),
        encode([*pairs, ("hash", flip(h, 3))]),
    ):
        with pytest.raises(TelegramBadHash):
            webapp(forged)
    with pytest.raises(TelegramBadHash) as err:
        webapp(data, bot_token=OTHER_TOKEN)
    assert OTHER_TOKEN not in err.value.detail
    assert TOKEN not in err.value.detail
    # the Login Widget's secret is another one
    with pytest.raises(TelegramBadHash):
        verify_login_widget({**dict(pairs), "hash": webapp_hash(pairs, TOKEN)}, TOKEN, now=NOW)


def test_init_data_hash_in_upper_case_and_fields_in_any_order() -> None:
    pairs = base_pairs()
    h = webapp_hash(pairs, TOKEN)
    assert webapp(encode([("hash", h.upper()), *reversed(pairs)])).id == 279058397


def test_init_data_stale_future_and_ignore_expiry() -> None:
    now_ts = int(NOW.timestamp())
    stale = sign_init_data(base_pairs(auth_date=now_ts - 86401), TOKEN)
    future = sign_init_data(base_pairs(auth_date=now_ts + 301), TOKEN)
    with pytest.raises(TelegramExpired, match="older than 1 day"):
        webapp(stale)
    with pytest.raises(TelegramExpired, match="in the future by more than 5 minutes"):
        webapp(future)
    assert webapp(sign_init_data(base_pairs(auth_date=now_ts + 300), TOKEN)).id == 279058397
    for data in (stale, future):
        assert webapp(data, ignore_expiry=True).id == 279058397
    with pytest.raises(TelegramExpired):
        webapp(sign_init_data(base_pairs(auth_date=now_ts + 2), TOKEN), max_skew=timedelta(0))
    with pytest.raises(TelegramExpired, match="older than 90 seconds"):
        webapp(
            sign_init_data(base_pairs(auth_date=now_ts - 91), TOKEN),
            max_age=timedelta(seconds=90),
        )


@pytest.mark.parametrize(
    "name",
    ["A+B", "x=y", "Tom & Jerry", "100%", "%2B", "ёжик Ёлкин", "日本語", "🎲 dice", 'a\\b"c'],
)
def test_init_data_names_with_special_characters_round_trip(name: str) -> None:
    data = sign_init_data(base_pairs(first_name=name, last_name=name + "!"), TOKEN)
    assert "+" not in data  # percent-encoded as Telegram does
    assert " " not in data
    ident = webapp(data)
    assert (ident.first_name, ident.last_name) == (name, name + "!")


def test_init_data_values_are_decoded_exactly_once() -> None:
    # Telegram signed the value "%25"; on the wire it is "%2525". Decoding twice would
    # check "%" and fail; decoding once matches.
    pairs = [*base_pairs(), ("start_param", "%25")]
    data = sign_init_data(pairs, TOKEN)
    assert "start_param=%2525" in data
    assert webapp(data).id == 279058397
    # data signed over the twice-decoded value does not verify
    twice = [*base_pairs(), ("start_param", "%")]
    forged = encode([*pairs, ("hash", webapp_hash(twice, TOKEN))])
    with pytest.raises(TelegramBadHash):
        webapp(forged)
    # a raw "+" is a space once decoded (form encoding), "%2B" is a plus
    signed_space = [*base_pairs(), ("start_param", "a b")]
    raw_plus = encode(base_pairs()) + "&start_param=a+b&hash=" + webapp_hash(signed_space, TOKEN)
    assert webapp(raw_plus).id == 279058397


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "empty"),
        ("user", "not a query string"),
        ("a=1&&b=2", "not a query string"),
        ("=1&b=2", "field names"),
        ("a%3Db=1&b=2", "field names"),
        ("a%0Ab=1", "field names"),
        ("a=%FF", "not UTF-8"),
        ("auth_date=1&hash=" + "ab" * 32 + "&auth_date=2", "more than once"),
        ("user=%7B%7D&user=%7B%7D&hash=" + "ab" * 32, "more than once"),
        ("auth_date=1", "no hash"),
        ("auth_date=1&hash=abc", "64 hexadecimal"),
        ("auth_date=1&hash=" + "g" * 64, "64 hexadecimal"),
        ("auth_date=1&hash=" + "ab" * 32 + "x", "64 hexadecimal"),
        ("hash=" + "ab" * 32, "no auth_date"),
        ("auth_date=-1&hash=" + "ab" * 32, "not an integer"),
        ("auth_date=1e9&hash=" + "ab" * 32, "not an integer"),
        ("auth_date=9999999999999&hash=" + "ab" * 32, "not an integer"),
        ("auth_date=999999999999&hash=" + "ab" * 32, "out of range"),
        ("&".join(f"f{i}=1" for i in range(33)), "more than 32 fields"),
        ("a=" + "x" * 8200, "longer than 8192"),
        ("a=" + "ё" * 4100, "longer than 8192"),
    ],
)
def test_init_data_malformed_is_refused(data: str, message: str) -> None:
    with pytest.raises(TelegramMalformed, match=message):
        webapp(data)


def test_huge_input_is_refused_cheaply() -> None:
    import time

    huge_text = "a=" + "x" * 50_000_000
    many_fields = "&".join(["a=1"] * 1_000_000)
    many_widget = {f"k{i}": "v" for i in range(1_000_000)}
    for call in (
        lambda: webapp(huge_text),
        lambda: webapp(many_fields),
        lambda: verify_login_widget(many_widget, TOKEN, now=NOW),
    ):
        started = time.perf_counter()
        with pytest.raises(TelegramMalformed):
            call()
        assert time.perf_counter() - started < 0.1


def test_a_duplicated_key_is_refused_even_when_signed() -> None:
    pairs = [*base_pairs(), ("query_id", "other")]
    with pytest.raises(TelegramMalformed, match="'query_id' more than once"):
        webapp(sign_init_data(pairs, TOKEN))


@pytest.mark.parametrize(
    "user",
    [
        None,
        "",
        "not json",
        "[1,2]",
        '"text"',
        "42",
        "null",
        "{}",
        '{"first_name":"A"}',
        '{"id":"42","first_name":"A"}',
        '{"id":true,"first_name":"A"}',
        '{"id":0,"first_name":"A"}',
        '{"id":-5,"first_name":"A"}',
        '{"id":4.5,"first_name":"A"}',
        '{"id":9223372036854775808,"first_name":"A"}',
        '{"id":5,"first_name":7}',
        '{"id":5,"first_name":"A","username":["x"]}',
        '{"id":5,"first_name":"A","photo_url":{}}',
        "[" * 2500,
    ],
)
def test_init_data_missing_or_unusable_user(user: str | None) -> None:
    pairs = base_pairs()[:1] + base_pairs()[2:]
    if user is not None:
        pairs.append(("user", user))
    with pytest.raises(TelegramMissingUser):
        webapp(sign_init_data(pairs, TOKEN))


def test_user_with_only_an_id() -> None:
    pairs = [("auth_date", str(AUTH)), ("user", '{"id":77}')]
    ident = webapp(sign_init_data(pairs, TOKEN))
    assert (ident.id, ident.first_name, ident.display_name) == (77, "", "tg77")


# -- Mini App initData: the third-party Ed25519 signature -------------------------------------


def test_third_party_signature_verifies(key: Ed25519PrivateKey, public_key: bytes) -> None:
    pairs = signed_pairs(key)
    ident = third_party(sign_init_data(pairs, TOKEN), public_key)
    assert ident.id == 279058397
    # no hash at all is fine when only the signature is checked
    assert third_party(encode(pairs), public_key).id == 279058397
    # with padding, too
    padded = [(k, v + "==" if k == "signature" else v) for k, v in pairs]
    assert third_party(encode(padded), public_key).id == 279058397
    # both checks at once
    both = third_party(sign_init_data(pairs, TOKEN), public_key, bot_token=TOKEN)
    assert both == ident


def test_third_party_signature_removed_or_altered(
    key: Ed25519PrivateKey, public_key: bytes
) -> None:
    pairs = signed_pairs(key)
    signature = dict(pairs)["signature"]
    without = [p for p in pairs if p[0] != "signature"]
    with pytest.raises(TelegramBadSignature, match="no signature"):
        third_party(sign_init_data(without, TOKEN), public_key)
    for i in (0, 20, 40, 84):
        altered = [(k, flip(v, i) if k == "signature" else v) for k, v in pairs]
        with pytest.raises(TelegramBadSignature, match="does not verify"):
            third_party(sign_init_data(altered, TOKEN), public_key)
    # the last character's unused bits changed: same bytes, another spelling; refused
    last = signature[-1]
    other = {"A": "B", "B": "A"}.get(last, "A")
    respelled = [(k, v[:-1] + other if k == "signature" else v) for k, v in pairs]
    with pytest.raises(TelegramAuthError):
        third_party(sign_init_data(respelled, TOKEN), public_key)
    # both checks: HMAC good, signature bad
    altered = [(k, flip(v, 10) if k == "signature" else v) for k, v in pairs]
    with pytest.raises(TelegramBadSignature):
        third_party(sign_init_data(altered, TOKEN), public_key, bot_token=TOKEN)
    # both checks: signature good, HMAC bad
    with pytest.raises(TelegramBadHash):
        third_party(sign_init_data(pairs, OTHER_TOKEN), public_key, bot_token=TOKEN)


@pytest.mark.parametrize("field", ["query_id", "user", "auth_date", "chat_type", "chat_instance"])
def test_third_party_each_field_tampered(
    key: Ed25519PrivateKey, public_key: bytes, field: str
) -> None:
    pairs = dict(signed_pairs(key))
    pairs[field] = pairs[field] + "0"
    with pytest.raises(TelegramBadSignature):
        third_party(encode(list(pairs.items())), public_key)


def test_third_party_hash_is_not_signed(key: Ed25519PrivateKey, public_key: bytes) -> None:
    """``hash`` is not part of the Ed25519 message: any hash passes the signature check."""
    pairs = signed_pairs(key)
    assert third_party(encode([*pairs, ("hash", "00" * 32)]), public_key).id == 279058397


def test_third_party_wrong_bot_or_key(key: Ed25519PrivateKey, public_key: bytes) -> None:
    data = encode(signed_pairs(key))
    with pytest.raises(TelegramBadSignature):
        verify_init_data(data, now=NOW, bot_id=BOT_ID + 1, ed25519=ed25519_verify,
                         public_key=public_key)  # fmt: skip
    for other in (PRODUCTION_PUBLIC_KEY, TEST_PUBLIC_KEY, b"\x00" * 32, b"short"):
        with pytest.raises(TelegramBadSignature):
            third_party(data, other)


def test_third_party_needs_a_verifier(key: Ed25519PrivateKey) -> None:
    with pytest.raises(TelegramBadSignature, match="no Ed25519 verifier"):
        verify_init_data(encode(signed_pairs(key)), now=NOW, bot_id=BOT_ID)


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ("not base64!", "not base64url"),
        ("a+b/" * 22, "not base64url"),
        ("AAAA" * 21 + "A", "not base64url"),  # 85 characters: no whole bytes
        ("AAAA" * 4, "not 64 bytes"),
        ("AAA===", "not base64url"),
        ("", "not base64url"),
    ],
)
def test_third_party_malformed_signature(
    key: Ed25519PrivateKey, public_key: bytes, signature: str, message: str
) -> None:
    pairs = [*base_pairs(), ("signature", signature)]
    with pytest.raises(TelegramMalformed, match=message):
        third_party(encode(pairs), public_key)


def test_ed25519_verify_never_raises(key: Ed25519PrivateKey, public_key: bytes) -> None:
    sig = key.sign(b"m")
    assert ed25519_verify(public_key, sig, b"m") is True
    assert ed25519_verify(public_key, sig, b"n") is False
    assert ed25519_verify(public_key, sig[:-1], b"m") is False
    assert ed25519_verify(public_key[:-1], sig, b"m") is False
    assert ed25519_verify(b"\xff" * 32, sig, b"m") is False
    assert ed25519_verify(None, sig, b"m") is False  # type: ignore[arg-type]


# -- display name -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "username", "expected"),
    [
        ("Ann", "Lee", "ann", "Ann Lee"),
        ("  Ann  ", None, "ann", "Ann"),
        ("Ann\n\tMarie", "  Lee ", None, "Ann Marie Lee"),
        ("", None, "ann_l", "ann_l"),
        ("  ", " ", None, "tg7"),
        ("x" * 70, "y", None, "x" * 64),
        ("x" * 63, "y", None, "x" * 63),
    ],
)
def test_display_name(first: str, last: str | None, username: str | None, expected: str) -> None:
    ident = TelegramIdentity(7, first, last, username, None, None, NOW, "widget")
    assert ident.display_name == expected
    assert 1 <= len(ident.display_name) <= 64
