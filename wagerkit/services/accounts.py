"""The ledger accounts every area opens: a user's wallet in a currency (``user``,
``user:<id>``, with the flag *debits must not exceed credits*) and the system's accounts
(treasury, house, escrow …, owned by ``system`` unless named). Opening is idempotent: an
account that exists is returned. ``batch_wallets`` opens the wallets a batch of player
commands needs in one statement."""

from __future__ import annotations

from collections.abc import Mapping

from ..domain.ledger import Account, AccountFlags, AccountKind
from ..domain.refs import user_of, user_ref
from ..ports import UnitOfWork

__all__ = ["SYSTEM_OWNER", "batch_wallets", "system_account", "user_wallet", "wallet_owner"]

SYSTEM_OWNER = "system"


async def user_wallet(uow: UnitOfWork, user_id: int, currency: str) -> Account:
    return await uow.ledger.open_account(
        AccountKind.USER, user_ref(user_id), currency, AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    )


async def system_account(
    uow: UnitOfWork, kind: AccountKind, currency: str, owner: str = SYSTEM_OWNER
) -> Account:
    return await uow.ledger.open_account(kind, owner, currency, AccountFlags.NONE)


async def batch_wallets(
    uow: UnitOfWork, wanted: Mapping[int, tuple[int, str]], known: Mapping[tuple[str, str], int]
) -> dict[int, int]:
    """The wallet account id for each command of a batch: ``wanted`` maps a command's index
    to its (user id, currency); ``known`` holds the wallet ids the batch's read found by
    (owner, currency). The missing wallets (a user's first money in that currency) are
    opened (or found) in one ``open_accounts`` statement."""
    ids: dict[int, int] = {}
    missing: list[int] = []
    for i, (user_id, currency) in wanted.items():
        wid = known.get((user_ref(user_id), currency))
        if wid is None:
            missing.append(i)
        else:
            ids[i] = wid
    if missing:
        opened = await uow.ledger.open_accounts(
            [
                (
                    AccountKind.USER,
                    user_ref(wanted[i][0]),
                    wanted[i][1],
                    AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
                )
                for i in missing
            ]
        )
        ids.update((i, a.id) for i, a in zip(missing, opened, strict=True))
    return ids


def wallet_owner(account: Account) -> int | None:
    """The user id of a user wallet (owner ``user:<id>``), None for system accounts."""
    if account.kind is not AccountKind.USER:
        return None
    return user_of(account.owner)
