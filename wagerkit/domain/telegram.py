"""Telegram sign-in: the Login Widget check and the Mini App ``initData`` check.

Both are pure functions of the received data, a secret and the current time (SPEC section 2):

* **Login Widget** (``verify_login_widget``): the fields ``id``, ``first_name``, ``last_name``,
  ``username``, ``photo_url``, ``auth_date`` and ``hash``. Secret = SHA-256(bot token);
  ``hash`` = hex HMAC-SHA-256(secret, data-check string), the data-check string being every
  received field except ``hash`` as ``key=value`` lines sorted by key and joined with ``\\n``.
* **Mini App initData** (``verify_init_data``): the raw query string. Secret =
  HMAC-SHA-256(key=``WebAppData``, msg=bot token); the data-check string is every field except
  ``hash`` (``signature`` IS included), sorted by key, ``\\n``-joined, values URL-decoded exactly
  once. Apps that know only the bot id check the third-party Ed25519 ``signature`` instead (or
  as well): message ``"{bot_id}:WebAppData\\n"`` + the sorted lines without ``hash`` and
  ``signature``, verified with Telegram's public key. The standard library has no Ed25519, so
  the caller passes a verifier (``wagerkit.adapters.crypto.ed25519_verify``).

Then ``auth_date`` must be fresh: not older than ``max_age`` (default one day) and not more than
``max_skew`` (default five minutes) in the future; ``ignore_expiry=True`` skips that check (for
operators debugging a sign-in, never for signing people in).

Order of the checks, each with its own error (``wagerkit.domain.errors``): the shape of the data
(size, field names, ``hash``/``signature``/``auth_date`` format) → ``TelegramMalformed``; the
HMAC → ``TelegramBadHash``; the Ed25519 signature → ``TelegramBadSignature``; freshness →
``TelegramExpired``; a usable user → ``TelegramMissingUser``. Hashes are compared in constant
time. Error details never contain the bot token, the secret or the computed hash.

Extra strictness beyond Telegram's text, all refused as ``TelegramMalformed``: more than
``MAX_FIELDS`` fields or more than ``MAX_INPUT_BYTES`` of input (so a huge input is cheap to
refuse), a field name that is not 1-64 of ``A-Z a-z 0-9 _`` (so no name can contain ``=`` or a
line break and fake another line of the data-check string), a duplicated field, a value that is
not valid UTF-8 once decoded, and a ``signature`` that is not the canonical base64url text of
64 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import parse_qsl

from .errors import (
    TelegramBadHash,
    TelegramBadSignature,
    TelegramExpired,
    TelegramMalformed,
    TelegramMissingUser,
)
from .text import strip_forbidden

__all__ = [
    "MAX_FIELDS",
    "MAX_INPUT_BYTES",
    "PRODUCTION_PUBLIC_KEY",
    "TEST_PUBLIC_KEY",
    "Ed25519Verifier",
    "TelegramIdentity",
    "verify_init_data",
    "verify_login_widget",
]

PRODUCTION_PUBLIC_KEY: bytes = bytes.fromhex(
    "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d"
)
"""Telegram's Ed25519 key for third-party validation of Mini App data (production bots)."""

TEST_PUBLIC_KEY: bytes = bytes.fromhex(
    "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec"
)
"""Telegram's Ed25519 key for bots of the test environment."""

MAX_FIELDS = 32
"""At most this many fields in initData or in the Login Widget data."""

MAX_INPUT_BYTES = 8 * 1024
"""At most this much input: the initData string, or the widget's values together (UTF-8)."""

MAX_DISPLAY_NAME = 64

_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")
_HEX64 = re.compile(r"[0-9A-Fa-f]{64}")
_DIGITS = re.compile(r"[0-9]{1,12}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_INT64_MAX = 2**63 - 1
_SIGNATURE_BYTES = 64


class Ed25519Verifier(Protocol):
    """Checks an Ed25519 signature; ``False`` (never an exception) when it does not verify."""

    def __call__(self, public_key: bytes, signature: bytes, message: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class TelegramIdentity:
    """The Telegram user that signed in, as verified data."""

    id: int
    first_name: str
    last_name: str | None
    username: str | None
    photo_url: str | None
    language_code: str | None
    auth_date: datetime
    """When Telegram signed the data (timezone-aware UTC)."""
    source: str
    """``"widget"`` (Login Widget) or ``"webapp"`` (Mini App initData)."""

    @property
    def display_name(self) -> str:
        """``"First Last"`` with whitespace collapsed, else the username, else ``tg<id>``;
        at most 64 characters. Characters the text rule forbids (controls, bidi overrides)
        are removed, not refused: the user did not type the name here, and a sign-in must
        not fail because of it (``wagerkit.domain.text``)."""
        for candidate in (f"{self.first_name} {self.last_name or ''}", self.username or ""):
            name = " ".join(strip_forbidden(candidate).split())[:MAX_DISPLAY_NAME].rstrip()
            if name:
                return name
        return f"tg{self.id}"


# -- Login Widget --------------------------------------------------------------------------


def verify_login_widget(
    fields: Mapping[str, object],
    bot_token: str,
    *,
    now: datetime,
    max_age: timedelta = timedelta(days=1),
    max_skew: timedelta = timedelta(minutes=5),
    ignore_expiry: bool = False,
) -> TelegramIdentity:
    """Check Login Widget data (the fields as received, e.g. a parsed JSON object) and return
    the user it names.

    Values must be strings or integers (an integer ``12345`` takes part in the check as
    ``"12345"``); booleans, ``None``, floats, lists and objects are refused as malformed.
    """
    _require_token(bot_token)
    _require_aware(now)
    if not isinstance(fields, Mapping):
        raise TelegramMalformed("Login Widget data must be an object of fields")
    if not fields:
        raise TelegramMalformed("Login Widget data is empty")
    if len(fields) > MAX_FIELDS:
        raise TelegramMalformed(f"Login Widget data has more than {MAX_FIELDS} fields")
    values: dict[str, str] = {}
    size = 0
    for key, value in fields.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise TelegramMalformed("Login Widget field names must be 1-64 of A-Z a-z 0-9 _")
        text = _scalar_text(key, value)
        size += len(key) + len(text.encode("utf-8", "surrogatepass")) + 2
        if size > MAX_INPUT_BYTES:
            raise TelegramMalformed(f"Login Widget data is larger than {MAX_INPUT_BYTES} bytes")
        values[key] = text

    received_hash = _require_hash(values.get("hash"))
    auth_date = _parse_auth_date(values.get("auth_date"))

    secret = hashlib.sha256(bot_token.encode()).digest()
    expected = hmac.new(secret, _data_check_string(values, {"hash"}), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest(), received_hash):
        raise TelegramBadHash(
            "Login Widget hash does not match: wrong bot token, or the data was changed"
        )

    _check_fresh(auth_date, now, max_age, max_skew, ignore_expiry)

    user_id = _parse_user_id(values.get("id"))
    return TelegramIdentity(
        id=user_id,
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name"),
        username=values.get("username"),
        photo_url=values.get("photo_url"),
        language_code=None,
        auth_date=auth_date,
        source="widget",
    )


def _scalar_text(key: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if not -_INT64_MAX <= value <= _INT64_MAX:
            raise TelegramMalformed(f"Login Widget field {key!r} is out of range")
        return str(value)
    raise TelegramMalformed(f"Login Widget field {key!r} must be a string or an integer")


def _parse_user_id(raw: str | None) -> int:
    if raw is None:
        raise TelegramMissingUser("the data has no user id")
    if not re.fullmatch(r"[1-9][0-9]{0,18}", raw) or int(raw) > _INT64_MAX:
        raise TelegramMissingUser("the user id is not a positive integer")
    return int(raw)


# -- Mini App initData ---------------------------------------------------------------------


def verify_init_data(
    init_data: str,
    *,
    now: datetime,
    bot_token: str | None = None,
    bot_id: int | None = None,
    ed25519: Ed25519Verifier | None = None,
    public_key: bytes = PRODUCTION_PUBLIC_KEY,
    max_age: timedelta = timedelta(days=1),
    max_skew: timedelta = timedelta(minutes=5),
    ignore_expiry: bool = False,
) -> TelegramIdentity:
    """Check Mini App ``initData`` (the raw query string, exactly as the client received it)
    and return the user it names.

    With ``bot_token`` the HMAC ``hash`` is checked; with ``bot_id`` (and an ``ed25519``
    verifier) the third-party ``signature`` is checked with ``public_key``; with both, both
    must pass. Giving neither is a programming error (``ValueError``).
    """
    if bot_token is None and bot_id is None:
        raise ValueError("verify_init_data needs bot_token, bot_id, or both")
    if bot_token is not None:
        _require_token(bot_token)
    if bot_id is not None:
        if isinstance(bot_id, bool) or not isinstance(bot_id, int) or bot_id <= 0:
            raise ValueError("bot_id must be a positive integer")
        if ed25519 is None:
            raise TelegramBadSignature(
                "no Ed25519 verifier is configured, so the signature cannot be checked "
                "(pass ed25519=wagerkit.adapters.crypto.ed25519_verify)"
            )
    _require_aware(now)

    values = _parse_query(init_data)
    received_hash = _require_hash(values.get("hash")) if bot_token is not None else ""
    signature = _require_signature(values.get("signature")) if bot_id is not None else b""
    auth_date = _parse_auth_date(values.get("auth_date"))

    if bot_token is not None:
        secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
        expected = hmac.new(secret, _data_check_string(values, {"hash"}), hashlib.sha256)
        if not hmac.compare_digest(expected.hexdigest(), received_hash):
            raise TelegramBadHash(
                "initData hash does not match: wrong bot token, or the data was changed"
            )
    if bot_id is not None:
        assert ed25519 is not None  # checked above
        message = f"{bot_id}:WebAppData\n".encode() + _data_check_string(
            values, {"hash", "signature"}
        )
        if not ed25519(public_key, signature, message):
            raise TelegramBadSignature(
                "initData signature does not verify: wrong bot id or key, or the data was changed"
            )

    _check_fresh(auth_date, now, max_age, max_skew, ignore_expiry)
    return _webapp_identity(values.get("user"), auth_date)


def _parse_query(init_data: str) -> dict[str, str]:
    if not isinstance(init_data, str):
        raise TelegramMalformed("initData must be a string")
    if not init_data:
        raise TelegramMalformed("initData is empty")
    if len(init_data) > MAX_INPUT_BYTES or (
        len(init_data.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES
    ):
        raise TelegramMalformed(f"initData is longer than {MAX_INPUT_BYTES} bytes")
    if init_data.count("&") >= MAX_FIELDS:
        raise TelegramMalformed(f"initData has more than {MAX_FIELDS} fields")
    try:
        pairs = parse_qsl(
            init_data,
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise TelegramMalformed("initData has a value that is not UTF-8 once decoded") from None
    except ValueError:
        raise TelegramMalformed("initData is not a query string of key=value fields") from None
    values: dict[str, str] = {}
    for key, value in pairs:
        if not _KEY.fullmatch(key):
            raise TelegramMalformed("initData field names must be 1-64 of A-Z a-z 0-9 _")
        if key in values:
            raise TelegramMalformed(f"initData has the field {key!r} more than once")
        values[key] = value
    return values


def _require_signature(raw: str | None) -> bytes:
    if raw is None:
        raise TelegramBadSignature("initData has no signature field to check")
    if not _BASE64URL.fullmatch(raw):
        raise TelegramMalformed("initData signature is not base64url")
    text = raw.rstrip("=")
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TelegramMalformed("initData signature is not base64url") from None
    # Refuse a second spelling of the same bytes (unused low bits set), so that the text
    # and the signature correspond one to one.
    if base64.urlsafe_b64encode(decoded).rstrip(b"=").decode() != text:
        raise TelegramMalformed("initData signature is not canonical base64url")
    if len(decoded) != _SIGNATURE_BYTES:
        raise TelegramMalformed(f"initData signature is not {_SIGNATURE_BYTES} bytes")
    return decoded


def _webapp_identity(raw_user: str | None, auth_date: datetime) -> TelegramIdentity:
    if raw_user is None:
        raise TelegramMissingUser("initData has no user field")
    try:
        user = json.loads(raw_user)
    except (ValueError, RecursionError):
        raise TelegramMissingUser("initData user field is not JSON") from None
    if not isinstance(user, dict):
        raise TelegramMissingUser("initData user field is not a JSON object")
    user_id = user.get("id")
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not 0 < user_id <= _INT64_MAX:
        raise TelegramMissingUser("initData user has no positive integer id")
    first_name = user.get("first_name", "")
    if not isinstance(first_name, str):
        raise TelegramMissingUser("initData user first_name is not a string")
    optional: dict[str, str | None] = {}
    for name in ("last_name", "username", "photo_url", "language_code"):
        value = user.get(name)
        if value is not None and not isinstance(value, str):
            raise TelegramMissingUser(f"initData user {name} is not a string")
        optional[name] = value
    return TelegramIdentity(
        id=user_id,
        first_name=first_name,
        last_name=optional["last_name"],
        username=optional["username"],
        photo_url=optional["photo_url"],
        language_code=optional["language_code"],
        auth_date=auth_date,
        source="webapp",
    )


# -- shared --------------------------------------------------------------------------------


def _require_token(bot_token: str) -> None:
    if not isinstance(bot_token, str) or not bot_token:
        raise ValueError("bot_token must be a non-empty string")


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _require_hash(raw: str | None) -> str:
    if raw is None:
        raise TelegramMalformed("the data has no hash field")
    if not _HEX64.fullmatch(raw):
        raise TelegramMalformed("the hash field is not 64 hexadecimal characters")
    return raw.lower()


def _parse_auth_date(raw: str | None) -> datetime:
    if raw is None:
        raise TelegramMalformed("the data has no auth_date field")
    if not _DIGITS.fullmatch(raw):
        raise TelegramMalformed("auth_date is not an integer Unix time")
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (OverflowError, OSError, ValueError):
        raise TelegramMalformed("auth_date is out of range") from None


def _data_check_string(values: Mapping[str, str], without: set[str]) -> bytes:
    # a raw newline in a value would make the string ambiguous: "a=1\nb=2" could be one field
    # or two, so a holder of signed data could fold fields together. Telegram never sends one
    # (the JSON in ``user`` escapes it).
    if any("\n" in values[key] for key in values if key not in without):
        raise TelegramMalformed("a field value contains a line break")
    lines = [f"{key}={values[key]}" for key in sorted(values) if key not in without]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def _check_fresh(
    auth_date: datetime, now: datetime, max_age: timedelta, max_skew: timedelta, ignore: bool
) -> None:
    if ignore:
        return
    if now - auth_date > max_age:
        raise TelegramExpired(f"auth_date is older than {_span(max_age)}")
    if auth_date - now > max_skew:
        raise TelegramExpired(f"auth_date is in the future by more than {_span(max_skew)}")


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{seconds} seconds"
