"""problem+json for every failure, through a live server."""

from __future__ import annotations

import httpx
import pytest

from wagerkit.domain import errors as domain
from wagerkit_http.errors import STATUS_BY_ERROR, status_for

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "instance"}

EXPECTED_STATUS: dict[type[domain.WagerkitError], int] = {
    domain.WagerkitError: 500,
    domain.InvalidInput: 422,
    domain.InvalidAmount: 422,
    domain.UnknownCurrency: 422,
    domain.NotFound: 404,
    domain.UserNotFound: 404,
    domain.AccountNotFound: 404,
    domain.TransferNotFound: 404,
    domain.PermissionDenied: 403,
    domain.AccountBanned: 403,
    domain.NotWhitelisted: 403,
    domain.AuthenticationFailed: 401,
    domain.InvalidCredentials: 401,
    domain.TokenInvalid: 401,
    domain.TokenExpired: 401,
    domain.TelegramAuthError: 401,
    domain.TelegramMalformed: 401,
    domain.TelegramBadHash: 401,
    domain.TelegramBadSignature: 401,
    domain.TelegramExpired: 401,
    domain.TelegramMissingUser: 401,
    domain.RateLimited: 429,
    domain.Conflict: 409,
    domain.IdempotencyConflict: 409,
    domain.AlreadyExists: 409,
    domain.StoreError: 503,
    domain.TransientStoreError: 503,
    # payments
    domain.PaymentNotFound: 404,
    domain.PaymentProviderUnavailable: 422,
    domain.WebhookMalformed: 422,
    domain.WebhookSignatureInvalid: 401,
    domain.PaymentMismatch: 409,
    domain.PaymentAlreadyFinal: 409,
    # events and chat
    domain.EventNotFound: 404,
    domain.MessageNotFound: 404,
    domain.UnknownOutcome: 422,
    domain.StakeOutOfRange: 422,
    domain.EventStateConflict: 409,
    domain.EventAlreadyResolved: 409,
    domain.BettingClosed: 409,
    domain.EventHasBets: 409,
    domain.AlreadyBet: 409,
    domain.ChatMuted: 403,
    # raffles and their draws
    domain.RaffleNotFound: 404,
    domain.RaffleStateConflict: 409,
    domain.TicketUnavailable: 409,
    domain.SoldOut: 409,
    domain.TicketLimitExceeded: 422,
    # raffle draws and beacons (docs/draw.md)
    domain.DrawError: 422,
    domain.BeaconInvalid: 422,
    domain.BeaconUnavailable: 503,
    # prices and price predictions
    domain.PriceNotFound: 404,
    domain.ContractNotFound: 404,
    domain.RoundNotFound: 404,
    domain.PriceUnavailable: 409,
    domain.ExposureLimit: 409,
    domain.ContractStateConflict: 409,
    domain.RoundClosed: 409,
    # the service-order marketplace (docs/orders.md)
    domain.OrderNotFound: 404,
    domain.ReportNotFound: 404,
    domain.OrderStateConflict: 409,
    domain.OrderClosed: 409,
    domain.OrderExpired: 409,
    domain.OrderFull: 409,
    domain.OrderLocked: 409,
    domain.ActiveOrderExists: 409,
    domain.AlreadyReviewed: 409,
    domain.OwnOrder: 403,
    domain.ReportNotAllowed: 403,
}


def _expected(cls: type[domain.WagerkitError]) -> int:
    if issubclass(cls, domain.LedgerRefused):
        return 409
    return EXPECTED_STATUS[cls]


def _assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://wagerkit.dev/problems/{code}"
    assert "Traceback" not in r.text
    return body


def test_every_error_class_has_a_status() -> None:
    classes = domain.all_error_types()
    assert set(STATUS_BY_ERROR) <= set(classes)
    for cls in classes:
        assert status_for(cls) == _expected(cls), cls
        assert status_for(cls("x")) == _expected(cls)


@pytest.mark.parametrize("cls", domain.all_error_types(), ids=lambda c: c.__name__)
def test_every_error_class_over_http(base_url: str, cls: type[domain.WagerkitError]) -> None:
    r = httpx.get(f"{base_url}/_test/raise/{cls.code}")
    body = _assert_problem(r, _expected(cls), cls.code)
    assert body["title"] == cls.title
    assert body["detail"] == f"detail of {cls.code}"
    assert body["instance"] == f"/_test/raise/{cls.code}"
    if cls in (domain.TransientStoreError, domain.RateLimited):  # RateLimited defaults to 1 s
        assert r.headers["retry-after"] == "1"
    else:
        assert "retry-after" not in r.headers


def test_unknown_route_is_404_problem(base_url: str) -> None:
    body = _assert_problem(httpx.get(f"{base_url}/api/v1/nothing-here"), 404, "not_found")
    assert body["instance"] == "/api/v1/nothing-here"


def test_wrong_method_is_405_problem_with_allow(base_url: str) -> None:
    r = httpx.delete(f"{base_url}/api/v1/currencies")
    _assert_problem(r, 405, "method_not_allowed")
    assert "GET" in r.headers["allow"]


def test_unhandled_exception_is_generic_500(base_url: str) -> None:
    r = httpx.get(f"{base_url}/_test/crash")
    body = _assert_problem(r, 500, "internal_error")
    assert body["detail"] == "An unexpected error occurred."
    assert isinstance(body["error_id"], str)
    assert len(body["error_id"]) == 32
    for leak in ("hunter2", "RuntimeError", "secret", "File ", "line "):
        assert leak not in r.text


def test_unhandled_exception_html_client_still_gets_problem(base_url: str) -> None:
    r = httpx.get(f"{base_url}/_test/crash", headers={"accept": "text/html"})
    _assert_problem(r, 500, "internal_error")
    assert "<html" not in r.text.lower()


def test_malformed_json_is_400(base_url: str) -> None:
    r = httpx.post(
        f"{base_url}/_test/echo",
        content=b'{"name": "a", amount: }',
        headers={"content-type": "application/json"},
    )
    body = _assert_problem(r, 400, "malformed_json")
    assert "amount" not in str(body["detail"])


def test_empty_body_is_400(base_url: str) -> None:
    r = httpx.post(f"{base_url}/_test/echo", headers={"content-type": "application/json"})
    _assert_problem(r, 400, "malformed_json")


def test_non_json_content_type_is_415(base_url: str) -> None:
    r = httpx.post(
        f"{base_url}/_test/echo", content=b"name=a", headers={"content-type": "text/plain"}
    )
    _assert_problem(r, 415, "unsupported_media_type")


def test_validation_error_is_422_with_fields_and_no_input_echo(base_url: str) -> None:
    r = httpx.post(
        f"{base_url}/_test/echo",
        json={"name": "", "amount": "lots", "password": 12345678987654321},
    )
    body = _assert_problem(r, 422, "validation_failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    by_field = {e["field"]: e for e in errors}
    assert set(by_field) == {"name", "amount", "password"}
    assert by_field["amount"]["loc"] == ["body", "amount"]
    assert by_field["amount"]["type"] == "int_parsing"
    assert all(e["message"] for e in errors)
    assert "lots" not in r.text
    assert "12345678987654321" not in r.text


def test_valid_body_passes(base_url: str) -> None:
    r = httpx.post(f"{base_url}/_test/echo", json={"name": "a", "amount": 5})
    assert r.status_code == 200
    assert r.json() == {"name": "a", "amount": 5, "password": None}


def test_payload_too_large_is_413(base_url: str) -> None:
    big = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'", "amount": 1}'
    r = httpx.post(
        f"{base_url}/_test/echo", content=big, headers={"content-type": "application/json"}
    )
    _assert_problem(r, 413, "payload_too_large")


def test_payload_too_large_without_content_length_is_413(base_url: str) -> None:
    def chunks():  # chunked transfer encoding: no Content-Length to check up front
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'", "amount": 1}'

    r = httpx.post(
        f"{base_url}/_test/echo", content=chunks(), headers={"content-type": "application/json"}
    )
    _assert_problem(r, 413, "payload_too_large")
