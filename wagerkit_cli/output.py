"""Domain objects as JSON-ready dicts (``--json``) and as table cells.

Every amount appears twice: as an integer count of minor units under its own name, and as
the human text formatted with the currency's exponent under ``<name>_formatted``; the
currency code sits beside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wagerkit import AuditEntry, Currency, StatementEntry, Transfer, User, WalletBalance

__all__ = ["audit_json", "balance_json", "statement_entry_json", "transfer_json", "user_json"]


def amounts(currency: Currency, **values: int) -> dict[str, Any]:
    """``{"x": 1250, "x_formatted": "12.50", ...}`` for each keyword."""
    out: dict[str, Any] = {}
    for name, units in values.items():
        out[name] = units
        out[f"{name}_formatted"] = currency.format(units)
    return out


def signed(currency: Currency, units: int) -> str:
    """``+12.50`` / ``-5.00``: an amount's effect on a wallet."""
    text = currency.format(units)
    return text if units < 0 else f"+{text}"


def user_json(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "display_name": u.display_name,
        "username": u.username,
        "email": u.email,
        "telegram_id": u.telegram_id,
        "role": u.role.value,
        "status": u.status.value,
        "whitelisted": u.whitelisted,
        "created_at": u.created_at.isoformat(),
    }


def balance_json(b: WalletBalance, currency: Currency) -> dict[str, Any]:
    return {
        "user_id": b.user_id,
        "currency": b.currency,
        **amounts(currency, balance=b.balance, available=b.available, held=b.held),
        "frozen": b.frozen,
        "account_id": b.account_id,
    }


def transfer_json(t: Transfer, currency: Currency) -> dict[str, Any]:
    return {
        "id": t.id,
        "kind": t.kind.value,
        "code": t.code,
        "currency": t.currency,
        **amounts(currency, amount=t.amount),
        "debit_account_id": t.debit_account_id,
        "credit_account_id": t.credit_account_id,
        "pending_id": t.pending_id,
        "reference": t.reference,
        "memo": t.memo,
        "timestamp": t.timestamp.isoformat(),
        "seq": t.seq,
    }


def statement_entry_json(e: StatementEntry, currency: Currency) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "transfer_id": e.transfer_id,
        "timestamp": e.timestamp,
        "code": e.code,
        "kind": e.kind.value,
        **amounts(
            currency,
            amount=e.amount,
            balance_after=e.balance_after,
            available_after=e.available_after,
        ),
        "counterparty_account_id": e.counterparty_account_id,
        "reference": e.reference,
        "memo": e.memo,
    }


def audit_json(a: AuditEntry) -> dict[str, Any]:
    return {
        "id": a.id,
        "at": a.at.isoformat(),
        "actor_id": a.actor_id,
        "actor_name": a.actor_name,
        "action": a.action,
        "target": a.target,
        "reason": a.reason,
        "details": dict(a.details),
    }


def when(iso_or_dt: object) -> str:
    """A timestamp for tables: ``2026-11-22 15:24:08`` (UTC)."""
    from datetime import datetime

    dt = iso_or_dt if isinstance(iso_or_dt, datetime) else datetime.fromisoformat(str(iso_or_dt))
    return dt.strftime("%Y-%m-%d %H:%M:%S")
