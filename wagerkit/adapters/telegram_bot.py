"""The ``Notifier`` port over the Telegram Bot API (``sendMessage``), with httpx.

``TelegramBotNotifier(token, mini_app_url="https://t.me/<bot>/<app>")`` sends each
``OutboundMessage`` as one ``sendMessage`` call. A message's ``link`` becomes one inline
keyboard button: a Mini App ``startapp`` parameter (``order_<id>``: letters, digits, ``_`` and
``-``, at most 512 characters) is turned into the deep link ``<mini_app_url>?startapp=order_<id>``,
which opens the Mini App on that order; a full ``https://`` URL is used as it is.

Pacing: Telegram accepts about 30 messages a second from one bot. Sends are spaced at most
``max_per_second`` apart (default 25) across all concurrent callers of one notifier, so a
fan-out that sends to many executors at once queues itself instead of collecting 429s
(``None``: no pacing).

Delivery (docs/notifications.md):

- ``ok: true`` → True;
- 429 Too Many Requests → wait ``parameters.retry_after`` seconds (or the ``Retry-After``
  header) through the injectable ``sleep`` and try again, at most ``max_retries`` times and
  never for longer than ``max_retry_after`` seconds at once; beyond that → False;
- any other answer (400 chat not found, 403 blocked by the user, 5xx), a timeout or a network
  error → False, logged as a warning. ``send`` never raises for a delivery failure.

The token is part of every request URL (``/bot<token>/sendMessage``), so it must never reach a
log or an exception message: warnings name the method only, and while a notifier is open it
installs a filter on the ``httpx`` logger (which logs each request's URL at INFO) that replaces
the token with ``<token>``. ``send`` takes no unit of work: callers send after their commit.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ..domain.notifications import OutboundMessage

__all__ = ["TELEGRAM_API_BASE", "TelegramBotNotifier", "startapp_link"]

TELEGRAM_API_BASE = "https://api.telegram.org"
#: Telegram's limit on a message's text, in characters
MAX_TEXT = 4096
#: Telegram's limit on an inline button's text we keep to
MAX_BUTTON_TEXT = 64
_STARTAPP = re.compile(r"[A-Za-z0-9_-]{1,512}")

log = logging.getLogger(__name__)

Sleeper = Callable[[float], Awaitable[None]]


def startapp_link(mini_app_url: str, parameter: str) -> str:
    """The deep link that opens the Mini App at ``mini_app_url`` (``https://t.me/<bot>/<app>``)
    with ``parameter`` as its ``start_param``; ``ValueError`` for a parameter Telegram refuses."""
    if _STARTAPP.fullmatch(parameter) is None:
        raise ValueError("a startapp parameter is 1-512 letters, digits, '_' or '-'")
    separator = "&" if "?" in mini_app_url else "?"
    return f"{mini_app_url}{separator}startapp={parameter}"


class _RedactToken(logging.Filter):
    """Replaces the bot token in log records of the ``httpx`` logger."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, "<token>")
            record.args = None
        return True


class TelegramBotNotifier:
    """Sends ``OutboundMessage``s through a Telegram bot; use as ``async with`` or call
    ``aclose()`` when done (it owns an ``httpx.AsyncClient``)."""

    def __init__(
        self,
        token: str,
        *,
        api_base: str = TELEGRAM_API_BASE,
        mini_app_url: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_retry_after: float = 60.0,
        sleep: Sleeper = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
        max_per_second: float | None = 25.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not token or "/" in token or any(c.isspace() for c in token):
            raise ValueError("the Telegram bot token is empty or malformed")
        self._token = token
        self._base = api_base.rstrip("/")
        self.mini_app_url = mini_app_url.rstrip("/") if mini_app_url else None
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        if max_per_second is not None and max_per_second <= 0:
            raise ValueError("max_per_second must be positive (or None: no pacing)")
        self._interval = 1.0 / max_per_second if max_per_second else 0.0
        self._monotonic = monotonic
        self._next_slot = float("-inf")
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._filter = _RedactToken(token)
        logging.getLogger("httpx").addFilter(self._filter)

    def __repr__(self) -> str:
        return f"TelegramBotNotifier(api_base={self._base!r})"

    async def __aenter__(self) -> TelegramBotNotifier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
        logging.getLogger("httpx").removeFilter(self._filter)

    def button_url(self, link: str) -> str | None:
        """The URL behind a message's button: a full https URL as it is, a ``startapp``
        parameter as the Mini App deep link (None without a configured Mini App URL)."""
        if link.startswith("https://"):
            return link
        if self.mini_app_url is None:
            return None
        try:
            return startapp_link(self.mini_app_url, link)
        except ValueError:
            return None

    def payload(self, message: OutboundMessage) -> dict[str, Any]:
        """The ``sendMessage`` body for one message."""
        body: dict[str, Any] = {"chat_id": message.chat_id, "text": message.text[:MAX_TEXT]}
        url = self.button_url(message.link) if message.link else None
        if url is not None:
            text = (message.link_text or "Open")[:MAX_BUTTON_TEXT]
            body["reply_markup"] = {"inline_keyboard": [[{"text": text, "url": url}]]}
        elif message.link:
            log.warning("telegram: no button for link %r (set the Mini App URL)", message.link)
        return body

    async def send(self, message: OutboundMessage) -> bool:
        return await self.call("sendMessage", self.payload(message))

    async def call(self, method: str, body: dict[str, Any]) -> bool:
        """One Bot API call; True when Telegram answered ``ok``. Retries after a 429 as the
        module says; never raises for a delivery failure and never shows the token."""
        url = f"{self._base}/bot{self._token}/{method}"
        for attempt in range(self.max_retries + 1):
            await self._pace()
            try:
                response = await self._client.post(url, json=body)
            except httpx.HTTPError as exc:
                log.warning("telegram %s failed: %s", method, type(exc).__name__)
                return False
            answer = _json(response)
            if response.status_code == 200 and answer.get("ok") is True:
                return True
            if response.status_code == 429 and attempt < self.max_retries:
                delay = _retry_after(response, answer)
                if delay is not None and delay <= self.max_retry_after:
                    log.info("telegram %s: 429, retrying in %s s", method, delay)
                    await self._sleep(delay)
                    continue
            description = str(answer.get("description", ""))[:200].replace(self._token, "<token>")
            log.warning(
                "telegram %s refused: HTTP %s %s", method, response.status_code, description
            )
            return False
        return False  # pragma: no cover - the loop always returns

    async def _pace(self) -> None:
        """Wait for this request's slot: slots are ``1 / max_per_second`` apart, taken in
        call order (the reservation happens before any await, so concurrent callers queue)."""
        if not self._interval:
            return
        now = self._monotonic()
        slot = max(now, self._next_slot + self._interval)
        self._next_slot = slot
        if slot > now:
            await self._sleep(slot - now)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _retry_after(response: httpx.Response, answer: dict[str, Any]) -> float | None:
    """Seconds to wait after a 429: ``parameters.retry_after``, else the header."""
    parameters = answer.get("parameters")
    value: object = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if value is None:
        value = response.headers.get("retry-after")
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if 0 <= seconds < float("inf") else None
