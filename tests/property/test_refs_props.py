"""Transfer ids (wagerkit.domain.refs): one id space for every area, and no collisions in it.

The ledger takes a repeated transfer id for a replay, so two different transfers must never
get the same id: ids of different areas, kinds or arguments differ (shown by decoding each id
back to what built it), new ids never meet the legacy forms, the legacy forms are byte-for-byte
what stored transfers carry, and every id fits the ledger's id column.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wagerkit.domain.errors import InvalidInput
from wagerkit.domain.ledger import MAX_ID_LENGTH
from wagerkit.domain.refs import (
    LEGACY_PREFIXES,
    Area,
    bet_ref,
    check_key,
    escrow_owner,
    event_ref,
    expiry_void_id,
    hold_resolution_id,
    keyed_id,
    outcome_ref,
    payment_transfer_id,
    payout_id,
    rake_id,
    refund_id,
    stake_id,
    stake_prefix,
    transfer_id,
    user_of,
    user_ref,
    welcome_id,
)
from wagerkit.testing import SequentialIds, UuidIds

KEY_ALPHABET = "abcXYZ019._:-"  # every class of the key alphabet, ':' often
keys = st.text(KEY_ALPHABET, min_size=1, max_size=64)
ids_ = st.integers(0, 2**63 - 1)  # BIGINT ids
kinds = st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True)
areas = st.sampled_from(list(Area))
parts = st.lists(st.one_of(ids_, keys), max_size=4)
specs = st.tuples(areas, kinds, parts)


def _normal(spec: tuple[Area, str, list[int | str]]) -> tuple[str, str, tuple[str, ...]]:
    """What an id names: an integer part and its decimal text are the same argument."""
    area, kind, ps = spec
    return area.value, kind, tuple(str(p) for p in ps)


def _decode(tid: str) -> tuple[str, str, tuple[str, ...]]:
    area, kind, *ps = tid.split(":")
    return area, kind, tuple(p.replace("~", ":") for p in ps)


def _build(spec: tuple[Area, str, list[int | str]]) -> str | None:
    try:
        return transfer_id(spec[0], spec[1], *spec[2])
    except ValueError:  # too long for the ledger: refused, never truncated
        return None


@settings(max_examples=300)
@given(specs)
def test_a_new_id_decodes_to_exactly_what_built_it(spec: tuple[Area, str, list[int | str]]) -> None:
    tid = _build(spec)
    if tid is None:
        built = ":".join((spec[0].value, spec[1], *(str(p) for p in spec[2])))
        assert len(built) > MAX_ID_LENGTH
        return
    assert len(tid) <= MAX_ID_LENGTH
    assert _decode(tid) == _normal(spec)


@settings(max_examples=200)
@given(st.lists(specs, min_size=2, max_size=30))
def test_different_areas_kinds_or_arguments_never_share_an_id(
    many: list[tuple[Area, str, list[int | str]]],
) -> None:
    built: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for spec in many:
        tid = _build(spec)
        if tid is None:
            continue
        if tid in built:
            assert built[tid] == _normal(spec)  # the same id only for the same arguments
        built[tid] = _normal(spec)


@given(areas, st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True), ids_, ids_, keys)
def test_the_longest_usual_shape_fits_the_ledger(
    area: Area, kind: str, a: int, b: int, key: str
) -> None:
    """Two BIGINT ids and a full idempotency key under the longest area name still fit."""
    assert len(transfer_id(area, kind, a, b, key)) <= MAX_ID_LENGTH


def _legacy(draw: st.DrawFn) -> str:
    u, e, b = draw(ids_), draw(ids_), draw(ids_)
    key = draw(keys)
    return draw(
        st.sampled_from(
            [
                stake_id(u, key),
                SequentialIds().new_id(stake_prefix(u)),
                UuidIds().new_id(stake_prefix(u)),
                payout_id(e, b),
                refund_id(e, b),
                rake_id(e),
                keyed_id(
                    draw(st.sampled_from(["adjust", "grant", "transfer", "hold"])), user_ref(u), key
                ),
                keyed_id(draw(st.sampled_from(["post", "void"])), f"t-{b}", key),
                hold_resolution_id(draw(st.sampled_from(["post", "void"])), f"hold-{b}"),
                expiry_void_id(f"hold-{b}"),
                welcome_id(u, "COIN"),
                payment_transfer_id(
                    f"pay-{b}", draw(st.sampled_from(["credit", "hold", "post", "void"]))
                ),
                UuidIds().new_id(draw(st.sampled_from(["adjust", "grant", "transfer", "hold"]))),
            ]
        )
    )


legacy_ids = st.composite(_legacy)()


@settings(max_examples=200)
@given(legacy_ids, specs)
def test_new_ids_never_meet_the_legacy_forms(
    legacy: str, spec: tuple[Area, str, list[int | str]]
) -> None:
    head = re.split(r"[:-]", legacy, maxsplit=1)[0]
    assert head in LEGACY_PREFIXES
    assert len(legacy) <= MAX_ID_LENGTH
    tid = _build(spec)
    assert tid is None or tid != legacy
    assert not {a.value for a in Area} & LEGACY_PREFIXES


@given(ids_, ids_, ids_, keys)
def test_the_events_ids_are_the_stored_ones(u: int, e: int, b: int, key: str) -> None:
    """Old transfers replay: these are the forms every stored events transfer carries."""
    assert stake_id(u, key) == "stake:" + str(u) + ":" + key
    assert SequentialIds().new_id(stake_prefix(u)) == "stake:" + str(u) + "-00000001"
    assert payout_id(e, b) == "payout:" + str(e) + ":" + str(b)
    assert refund_id(e, b) == "refund:" + str(e) + ":" + str(b)
    assert rake_id(e) == "rake:" + str(e)
    assert outcome_ref(e, b) == "event:" + str(e) + ":outcome:" + str(b)
    assert bet_ref(e, b) == "event:" + str(e) + ":bet:" + str(b)
    assert event_ref(e) == "event:" + str(e)
    assert escrow_owner("escrow-1") == "event:escrow-1"
    assert user_ref(u) == "user:" + str(u)
    assert user_of(user_ref(u)) == u
    assert keyed_id("adjust", user_ref(u), key) == "adjust:user:" + str(u) + ":" + key
    assert welcome_id(u, "COIN") == "welcome:" + str(u) + ":COIN"
    assert payment_transfer_id("pay-1", "hold") == "payment:pay-1:hold"


@pytest.mark.parametrize(
    "bad", ["", "a" * 65, "has space", "new\nline", "trailing\n", "é", "a/b", "~", 7, None]
)
def test_idempotency_keys_outside_the_alphabet_are_refused(bad: object) -> None:
    with pytest.raises(InvalidInput, match="idempotency key"):
        check_key(bad)


def test_new_ids_refuse_what_would_make_them_ambiguous() -> None:
    for args in [("bad:kind",), ("Kind",), ("k", "a~b"), ("k", ""), ("k", -1), ("k", True)]:
        with pytest.raises(ValueError):
            transfer_id(Area.RAFFLES, *args)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        transfer_id("raffles", "ticket", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="longer than"):
        transfer_id(Area.PREDICTIONS, "stake", 2**63, 2**63, 2**63, "k" * 64)
    assert transfer_id(Area.RAFFLES, "ticket", 7, "a:b") == "raffles:ticket:7:a~b"
    assert user_of("event:7") is None
    assert user_of("user:x") is None
