"""Price-prediction contracts and exposure rows (``uow.predictions``) in SQL; its rounds and
round bets are ``SqlRounds`` (rounds.py), the base class.

* **Settlement claim** (``claim_due``): on PostgreSQL ONE statement per chunk claims the
  decided open contracts ``FOR UPDATE OF c SKIP LOCKED`` and joins each to the first tick at
  or after its expiry (``LEFT JOIN LATERAL … ORDER BY observed_at LIMIT 1``, served by the
  ticks' primary key), keeping those with a tick within the buffer or past expiry + buffer.
  Several runners therefore share one due set and never take the same contract. SQLite (one
  writer at a time) runs the same join with a correlated sub-select and applies the buffer
  rule in process. ``resolve`` writes a chunk's results as one executemany.
* **Exposure** rows (currency, symbol; ``'*'`` is the total) are created if missing and
  locked ``FOR UPDATE`` in one order (by symbol, so the total first): two placement batches on
  one symbol serialise on its rows and the limit can never be passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import String, bindparam, select, text, update

from ...domain.predictions import (
    Contract,
    ContractKind,
    ContractStatus,
    Direction,
    TieRule,
)
from ...domain.prices import Tick, parse_price
from ...ports import PlacementBatchView
from .placements_batch import READ_BATCH, read_batch_sqlite
from .rounds import SqlRounds
from .session import dump_json, int_array, utc
from .tables import (
    ExactPrice,
    UtcDateTime,
    prediction_contracts,
    prediction_exposure,
    price_ticks,
)
from .users import user_from_json

__all__ = ["SqlPredictions"]

_c = prediction_contracts.c
_e = prediction_exposure.c
TOTAL = "*"

_PG_ADD_EXPOSURE_SQL = (
    "UPDATE prediction_exposure AS e SET amount = e.amount + (d.value->>1)::bigint"
    " FROM jsonb_array_elements(CAST({rows} AS jsonb)) AS d"
    " WHERE e.currency = {currency} AND e.symbol = d.value->>0"
)
_PG_ADD_EXPOSURE = text(_PG_ADD_EXPOSURE_SQL.format(rows=":rows", currency=":currency"))
_PG_ADD_EXPOSURE_DRIVER = _PG_ADD_EXPOSURE_SQL.format(
    rows="%(rows)s", currency="%(currency)s"
)  # the same statement for psycopg (deferred writes go with the COMMIT)

_RESOLVED = (
    "status",
    "exit_price",
    "exit_at",
    "payout",
    "resolved_at",
    "closed_early",
    "void_reason",
)

_PG_CLAIM = """
SELECT c.*, t.observed_at AS t_at, t.price AS t_price, t.source AS t_source
FROM prediction_contracts AS c
LEFT JOIN LATERAL (
    SELECT p.observed_at, p.price, p.source FROM price_ticks AS p
    WHERE p.symbol = c.symbol AND p.observed_at >= c.expires_at
    ORDER BY p.observed_at, p.source LIMIT 1
) AS t ON true
WHERE c.status = 'open' AND c.expires_at <= :now
  AND ((t.observed_at IS NOT NULL AND t.observed_at <= c.expires_at + CAST(:buffer AS interval))
       OR c.expires_at + CAST(:buffer AS interval) < :now)
ORDER BY c.id
LIMIT :limit
FOR UPDATE OF c SKIP LOCKED
"""


_PG_RESOLVE = """
UPDATE prediction_contracts AS c
SET status = v.status, exit_price = v.exit_price, exit_at = v.exit_at, payout = v.payout,
    resolved_at = v.resolved_at, closed_early = v.closed_early, void_reason = v.void_reason
FROM unnest(
    CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:prices AS numeric[]),
    CAST(:ats AS timestamptz[]), CAST(:payouts AS bigint[]), CAST(:resolved AS timestamptz[]),
    CAST(:early AS boolean[]), CAST(:reasons AS text[])
) AS v(id, status, exit_price, exit_at, payout, resolved_at, closed_early, void_reason)
WHERE c.id = v.id
"""


def _contract(r: Any) -> Contract:
    return Contract(
        id=r.id,
        user_id=r.user_id,
        currency=r.currency,
        symbol=r.symbol,
        direction=Direction(r.direction),
        kind=ContractKind(r.kind),
        stake=r.stake,
        duration=r.duration,
        placed_at=utc(r.placed_at),
        expires_at=utc(r.expires_at),
        entry_price=parse_price(Decimal(r.entry_price)),
        entry_at=utc(r.entry_at),
        max_payout=r.max_payout,
        stake_transfer_id=r.stake_transfer_id,
        payout_bps=r.payout_bps,
        leverage=r.leverage,
        cap=r.cap,
        tie_rule=TieRule(r.tie_rule),
        commission=r.commission,
        status=ContractStatus(r.status),
        exit_price=None if r.exit_price is None else parse_price(Decimal(r.exit_price)),
        exit_at=utc(r.exit_at),
        payout=r.payout,
        resolved_at=utc(r.resolved_at),
        closed_early=bool(r.closed_early),
        void_reason=r.void_reason,
    )


def _contract_row(c: Contract) -> dict[str, Any]:
    return {
        "user_id": c.user_id,
        "currency": c.currency,
        "symbol": c.symbol,
        "direction": c.direction.value,
        "kind": c.kind.value,
        "stake": c.stake,
        "duration": c.duration,
        "placed_at": c.placed_at,
        "expires_at": c.expires_at,
        "entry_price": c.entry_price,
        "entry_at": c.entry_at,
        "max_payout": c.max_payout,
        "stake_transfer_id": c.stake_transfer_id,
        "payout_bps": c.payout_bps,
        "leverage": c.leverage,
        "cap": c.cap,
        "tie_rule": c.tie_rule.value,
        "commission": c.commission,
        "status": c.status.value,
        "exit_price": c.exit_price,
        "exit_at": c.exit_at,
        "payout": c.payout,
        "resolved_at": c.resolved_at,
        "closed_early": c.closed_early,
        "void_reason": c.void_reason,
    }


def _json_row(c: Contract) -> dict[str, Any]:
    """``_contract_row`` as JSON: times in ISO 8601, prices as exact decimal text."""
    return {
        k: v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, Decimal) else v
        for k, v in _contract_row(c).items()
    }


_PG_CONTRACT_COLUMNS = (
    ("user_id", "bigint"),
    ("currency", "text"),
    ("symbol", "text"),
    ("direction", "text"),
    ("kind", "text"),
    ("stake", "bigint"),
    ("duration", "integer"),
    ("placed_at", "timestamptz"),
    ("expires_at", "timestamptz"),
    ("entry_price", "numeric"),
    ("entry_at", "timestamptz"),
    ("max_payout", "bigint"),
    ("stake_transfer_id", "text"),
    ("payout_bps", "integer"),
    ("leverage", "integer"),
    ("cap", "integer"),
    ("tie_rule", "text"),
    ("commission", "bigint"),
    ("status", "text"),
    ("exit_price", "numeric"),
    ("exit_at", "timestamptz"),
    ("payout", "bigint"),
    ("resolved_at", "timestamptz"),
    ("closed_early", "boolean"),
    ("void_reason", "text"),
)
_PG_ADD_CONTRACTS = (  # psycopg's parameter style: it runs on the driver connection
    "INSERT INTO prediction_contracts ("  # noqa: S608 (constant column names)
    + ", ".join(n for n, _ in _PG_CONTRACT_COLUMNS)
    + ") SELECT "
    + ", ".join(f"r.{n}" for n, _ in _PG_CONTRACT_COLUMNS)
    + " FROM jsonb_to_recordset(CAST(%(rows)s AS jsonb)) AS r("
    + ", ".join(f"{n} {t}" for n, t in _PG_CONTRACT_COLUMNS)
    + ") ORDER BY r.stake_transfer_id RETURNING id, stake_transfer_id"
)
# the same with ids reserved by the batch's read: deferred to go with the COMMIT
_PG_ADD_RESERVED = (
    "INSERT INTO prediction_contracts (id, "  # noqa: S608 (constant column names)
    + ", ".join(n for n, _ in _PG_CONTRACT_COLUMNS)
    + ") SELECT r.id, "
    + ", ".join(f"r.{n}" for n, _ in _PG_CONTRACT_COLUMNS)
    + " FROM jsonb_to_recordset(CAST({rows} AS jsonb)) AS r(id bigint, "
    + ", ".join(f"{n} {t}" for n, t in _PG_CONTRACT_COLUMNS)
    + ") ORDER BY r.id"
)
_PG_ADD_RESERVED_SA = text(_PG_ADD_RESERVED.format(rows=":rows"))
_PG_ADD_RESERVED_DRIVER = _PG_ADD_RESERVED.format(rows="%(rows)s")


class SqlPredictions(SqlRounds):
    # -- contracts -------------------------------------------------------------------------
    async def add_contracts(
        self, contracts: Sequence[Contract], ids: Sequence[int] = ()
    ) -> list[Contract]:
        if not contracts:
            return []
        if ids:
            if len(ids) != len(contracts):
                raise ValueError("one reserved id per contract")
            placed = [_with_id(c, cid) for c, cid in zip(contracts, ids, strict=True)]
            if self._pg:  # the ids are known: the insert goes with the COMMIT
                rows = dump_json([{**_json_row(c), "id": c.id} for c in placed])
                self._s.defer(_PG_ADD_RESERVED_SA, _PG_ADD_RESERVED_DRIVER, {"rows": rows})
            else:
                await self._c.execute(
                    prediction_contracts.insert(),
                    [{**_contract_row(c), "id": c.id} for c in placed],
                )
            return placed
        if self._pg:
            found = await self._add_contracts_pg(contracts)
        else:
            # executemany of one cached single-row INSERT … RETURNING: SQLAlchemy sends it as
            # multi-row INSERTs ("insertmanyvalues") without compiling a statement per batch
            # size. The stake id is unique: it maps each returned row to its contract.
            result = await self._c.execute(
                prediction_contracts.insert().returning(_c.id, _c.stake_transfer_id),
                [_contract_row(c) for c in contracts],
            )
            found = {r.stake_transfer_id: r.id for r in result}
        return [_with_id(c, found[c.stake_transfer_id]) for c in contracts]

    async def read_placement_batch(
        self,
        currency: str,
        symbols: Sequence[str],
        stake_ids: Sequence[str],
        accounts: Sequence[tuple[str, str]],
        users: Sequence[int],
        now: datetime,
        new_contracts: int,
    ) -> PlacementBatchView:
        keys = sorted({TOTAL, *symbols})
        if not self._pg:  # one writer at a time (BEGIN IMMEDIATE): any order is one view
            return await read_batch_sqlite(self, currency, keys, stake_ids, accounts, users, now)
        row, *_ = await self._s.driver_rows(
            READ_BATCH,
            {
                "currency": currency,
                "keys": keys,
                "stakes": dump_json(sorted(set(stake_ids))),
                "symbols": sorted(set(symbols)),
                "now": now,
                "accounts": dump_json([{"k": k, "o": o} for k, o in sorted(set(accounts))]),
                "uids": int_array(sorted(set(users))),
                "n": new_contracts,
            },
        )
        ticks = (Tick(s, utc(at), Decimal(price), source) for s, at, price, source in row[2] or ())
        return PlacementBatchView(
            {s: amount for s, amount in row[0] or ()},
            {m["stake_transfer_id"]: _contract(SimpleNamespace(**m)) for m in row[1] or ()},
            {t.symbol: t for t in ticks},
            {(k, o): a for k, o, a in row[3] or ()},
            {u.id: u for u in map(user_from_json, row[4] or ())},
            list(row[5] or ()),
        )

    async def _add_contracts_pg(self, contracts: Sequence[Contract]) -> dict[str, int]:
        """ONE INSERT … SELECT FROM jsonb_to_recordset … RETURNING, sent in one psycopg
        pipeline with the writes deferred before it (the placement's ledger batch): one round
        trip where the flush and the insert took two, while the placement holds its locks."""
        rows = dump_json([_json_row(c) for c in contracts])
        found = await self._s.pipeline((_PG_ADD_CONTRACTS, {"rows": rows}))
        return {transfer_id: cid for cid, transfer_id in found}

    async def get(self, contract_id: int, *, for_update: bool = False) -> Contract | None:
        q = select(prediction_contracts).where(_c.id == contract_id)
        if for_update and self._pg:
            q = q.with_for_update()
        r = (await self._c.execute(q)).first()
        return _contract(r) if r else None

    async def by_stake_ids(self, transfer_ids: Sequence[str]) -> dict[str, Contract]:
        if not transfer_ids:
            return {}
        q = select(prediction_contracts).where(_c.stake_transfer_id.in_(list(transfer_ids)))
        return {r.stake_transfer_id: _contract(r) for r in await self._c.execute(q)}

    async def list_contracts(
        self,
        *,
        user_id: int | None = None,
        status: ContractStatus | None = None,
        symbol: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Contract]:
        q = select(prediction_contracts).order_by(_c.id.desc()).limit(limit)
        if user_id is not None:
            q = q.where(_c.user_id == user_id)
        if status is not None:
            q = q.where(_c.status == status.value)
        if symbol is not None:
            q = q.where(_c.symbol == symbol)
        if before_id is not None:
            q = q.where(_c.id < before_id)
        return [_contract(r) for r in await self._c.execute(q)]

    async def claim_due(
        self, now: datetime, buffer: timedelta, limit: int
    ) -> list[tuple[Contract, Tick | None]]:
        if self._pg:
            params = {"now": now, "buffer": f"{buffer.total_seconds()} seconds", "limit": limit}
            stmt = text(_PG_CLAIM).columns(
                *prediction_contracts.c, t_at=UtcDateTime, t_price=ExactPrice, t_source=String
            )
            rows = (await self._c.execute(stmt, params)).all()
            found: list[tuple[Contract, Tick | None]] = []
            for r in rows:  # a tick past the buffer is no exit price: the contract is voided
                c, tick = _contract(r), _tick(r)
                late = tick is not None and tick.observed_at - c.expires_at > buffer
                found.append((c, None if late else tick))
            return found
        out: list[tuple[Contract, Tick | None]] = []
        after = 0
        while len(out) < limit:  # SQLite: page on, deciding the buffer rule here
            q = (
                select(prediction_contracts, *_first_tick())
                .where(_c.status == "open", _c.expires_at <= now, _c.id > after)
                .order_by(_c.id)
                .limit(limit)
            )
            rows = (await self._c.execute(q)).all()
            if not rows:
                break
            for r in rows:
                after = r.id
                c, tick = _contract(r), _tick(r)
                if tick is not None and tick.observed_at - c.expires_at <= buffer:
                    out.append((c, tick))
                elif c.expires_at + buffer < now:
                    out.append((c, None))
                if len(out) >= limit:
                    break
        return out

    async def resolve(self, contracts: Sequence[Contract]) -> None:
        if not contracts:
            return
        if self._pg:  # one statement for the whole chunk: UPDATE … FROM unnest(arrays)
            await self._c.execute(
                text(_PG_RESOLVE),
                {
                    "ids": [c.id for c in contracts],
                    "statuses": [c.status.value for c in contracts],
                    "prices": [c.exit_price for c in contracts],
                    "ats": [c.exit_at for c in contracts],
                    "payouts": [c.payout for c in contracts],
                    "resolved": [c.resolved_at for c in contracts],
                    "early": [c.closed_early for c in contracts],
                    "reasons": [c.void_reason for c in contracts],
                },
            )
            return
        stmt = (
            update(prediction_contracts)
            .where(_c.id == bindparam("b_id"))
            .values({k: bindparam(f"b_{k}") for k in _RESOLVED})
        )
        rows = []
        for c in contracts:
            row = _contract_row(c)
            rows.append({"b_id": c.id, **{f"b_{k}": row[k] for k in _RESOLVED}})
        await self._c.execute(stmt, rows)

    # -- exposure --------------------------------------------------------------------------
    async def lock_exposure(self, currency: str, symbols: Sequence[str]) -> dict[str, int]:
        # the rows nearly always exist: lock them in one round trip, and only when one is
        # missing insert it (ON CONFLICT DO NOTHING: a racing creator wins) and lock again
        keys = sorted({TOTAL, *symbols})
        q = (
            select(_e.symbol, _e.amount)
            .where(_e.currency == currency, _e.symbol.in_(keys))
            .order_by(_e.symbol)
        )
        if self._pg:
            q = q.with_for_update()
        found = {r.symbol: r.amount for r in await self._c.execute(q)}
        if len(found) == len(keys):
            return found
        ins = (
            self._insert(prediction_exposure)
            .values([{"currency": currency, "symbol": s, "amount": 0} for s in keys])
            .on_conflict_do_nothing(index_elements=[_e.currency, _e.symbol])
        )
        await self._c.execute(ins)
        return {r.symbol: r.amount for r in await self._c.execute(q)}

    async def add_exposure(self, currency: str, deltas: Mapping[str, int]) -> None:
        items = sorted((s, d) for s, d in deltas.items() if d)
        if not items:
            return
        # the rows exist: placements create them (lock_exposure) before adding to them
        if self._pg:  # one statement, sent with the COMMIT (or before the next statement)
            params = {"currency": currency, "rows": dump_json([[s, d] for s, d in items])}
            self._s.defer(_PG_ADD_EXPOSURE, _PG_ADD_EXPOSURE_DRIVER, params)
            return
        stmt = (
            update(prediction_exposure)
            .where(_e.currency == currency, _e.symbol == bindparam("b_symbol"))
            .values(amount=_e.amount + bindparam("b_delta"))
        )
        await self._c.execute(stmt, [{"b_symbol": s, "b_delta": d} for s, d in items])

    async def exposure(self) -> list[tuple[str, str, int]]:
        q = select(prediction_exposure).order_by(_e.currency, _e.symbol)
        return [(r.currency, r.symbol, r.amount) for r in await self._c.execute(q)]


def _first_tick() -> list[Any]:
    """The first tick at or after each contract's expiry, as three correlated sub-selects."""
    p = price_ticks.alias("p")

    def first(col: Any, name: str) -> Any:
        return (
            select(col)
            .where(p.c.symbol == _c.symbol, p.c.observed_at >= _c.expires_at)
            .order_by(p.c.observed_at, p.c.source)
            .limit(1)
            .scalar_subquery()
            .label(name)
        )

    return [
        first(p.c.observed_at, "t_at"),
        first(p.c.price, "t_price"),
        first(p.c.source, "t_source"),
    ]


def _with_id(c: Contract, cid: int) -> Contract:
    from dataclasses import replace

    return replace(c, id=cid)


def _tick(r: Any) -> Tick | None:
    if r.t_at is None:
        return None
    return Tick(r.symbol, utc(r.t_at), Decimal(r.t_price), r.t_source)
