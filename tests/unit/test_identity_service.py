"""Accounts, sessions, roles, whitelist and Telegram sign-in over every store."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import jwt
import pytest
from builders import assert_conserved
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wagerkit import (
    AccountBanned,
    Actor,
    AlreadyExists,
    Conflict,
    IdentityPolicy,
    InvalidCredentials,
    InvalidInput,
    NotWhitelisted,
    PermissionDenied,
    Role,
    TokenExpired,
    TokenInvalid,
    UserStatus,
    WagerKit,
)
from wagerkit.adapters.passwords import Argon2PasswordHasher
from wagerkit.adapters.tokens import JwtTokenService
from wagerkit.domain.telegram import verify_login_widget
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import FixedClock, SequentialIds

SECRET = "s" * 40
BOT_TOKEN = "123456:TEST-bot-token-for-wagerkit-tests"
FAST = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def make_kit(
    store: UnitOfWorkFactory, clock: FixedClock, policy: IdentityPolicy | None = None
) -> WagerKit:
    return WagerKit(
        store,
        clock=clock,
        ids=SequentialIds(),
        passwords=Argon2PasswordHasher(**FAST),
        tokens=JwtTokenService(SECRET, lifetime=timedelta(minutes=60)),
        identity_policy=policy,
    )


@pytest.fixture
def ikit(store: UnitOfWorkFactory, clock: FixedClock) -> WagerKit:
    return make_kit(store, clock)


async def balance(kit: WagerKit, user_id: int) -> int:
    return (await kit.wallets.balance(Actor.system(), user_id, "COIN")).balance


def widget_fields(clock: FixedClock, tg_id: int, **extra: object) -> dict[str, object]:
    """Login Widget data signed the way SPEC section 2 says."""
    fields: dict[str, object] = {
        "id": tg_id,
        "first_name": "Ann + Co = &",
        "auth_date": int(clock.now().timestamp()),
        **extra,
    }
    dcs = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    secret = hashlib.sha256(BOT_TOKEN.encode()).digest()
    fields["hash"] = hmac.new(secret, dcs.encode(), hashlib.sha256).hexdigest()
    return fields


def tg_identity(clock: FixedClock, tg_id: int, **extra: object):  # type: ignore[no-untyped-def]
    return verify_login_widget(widget_fields(clock, tg_id, **extra), BOT_TOKEN, now=clock.now())


# -- register / login ------------------------------------------------------------------
async def test_register_and_login_by_username_and_email(ikit: WagerKit) -> None:
    user = await ikit.identity.register(
        password="correct horse", display_name="Alice", username="Alice_1", email="A@Ex.org"
    )
    assert (user.username, user.email, user.role) == ("alice_1", "a@ex.org", Role.PLAYER)
    assert user.password_hash
    assert user.password_hash.startswith("$argon2id$")
    assert await balance(ikit, user.id) == 1000
    for login in ("alice_1", "ALICE_1", "a@ex.org", " A@EX.ORG "):
        session = await ikit.identity.login(login, "correct horse")
        assert session.token_type == "bearer"
        assert session.user.id == user.id
        assert session.expires_at == ikit.deps.clock.now() + timedelta(minutes=60)
        actor = await ikit.identity.authenticate(session.access_token)
        assert (actor.user_id, actor.role) == (user.id, Role.PLAYER)
    await assert_conserved(ikit)


async def test_wrong_password_and_unknown_user_get_the_same_error(ikit: WagerKit) -> None:
    await ikit.identity.register(password="correct horse", display_name="A", username="alice")
    telegram_only = await ikit.users.add(Actor.system(), "T", username="tgonly")
    errors = []
    for login, password in [
        ("alice", "wrong horse"),
        ("nobody", "correct horse"),
        ("nobody@example.org", "correct horse"),
        (telegram_only.username or "", "whatever1"),
        ("", "x"),
        ("alice", "x" * 10_000),
    ]:
        with pytest.raises(InvalidCredentials) as info:
            await ikit.identity.login(login, password)
        errors.append((type(info.value), info.value.detail))
    assert len(set(errors)) == 1
    await assert_conserved(ikit)


async def test_register_validation_and_generic_duplicates(ikit: WagerKit) -> None:
    reg = ikit.identity.register
    for kwargs in [
        {"password": "short", "username": "bob"},
        {"password": "x" * 257, "username": "bob"},
        {"password": "long enough", "username": "ab"},
        {"password": "long enough", "username": "bad name"},
        {"password": "long enough", "username": "x" * 33},
        {"password": "long enough", "email": "not-an-email"},
        {"password": "long enough", "email": "a b@example.org"},
        {"password": "long enough"},
    ]:
        with pytest.raises(InvalidInput):
            await reg(display_name="Bob", **kwargs)  # type: ignore[arg-type]
    await reg(password="long enough", display_name="Bob", username="bob", email="b@x.io")
    for kwargs in [{"username": "BOB"}, {"email": "B@X.IO"}]:
        with pytest.raises(AlreadyExists) as info:
            await reg(password="long enough", display_name="Bob 2", **kwargs)  # type: ignore[arg-type]
        assert "username or e-mail" in info.value.detail
    async with ikit.deps.uow() as uow:
        assert len(await uow.users.list()) == 1
    await assert_conserved(ikit)


async def test_weak_hash_is_upgraded_on_login(store: UnitOfWorkFactory, clock: FixedClock) -> None:
    kit = make_kit(store, clock)
    user = await kit.identity.register(password="pass word 1", display_name="A", username="ann")
    kit.deps.passwords = Argon2PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    await kit.identity.login("ann", "pass word 1")
    async with kit.deps.uow() as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None
    assert stored.password_hash is not None
    assert "m=16,t=2" in stored.password_hash
    assert stored.password_hash != user.password_hash
    await kit.identity.login("ann", "pass word 1")


# -- tokens ------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_bad_tokens_are_refused(ikit: WagerKit, clock: FixedClock) -> None:
    user = await ikit.identity.register(password="pass word 1", display_name="A", username="ann")
    good = (await ikit.identity.login("ann", "pass word 1")).access_token
    now = int(clock.now().timestamp())
    claims = {"sub": str(user.id), "iat": now, "exp": now + 600, "typ": "access"}
    header, payload, sig = good.split(".")
    tampered_payload = _b64(json.dumps({**claims, "sub": "999"}).encode())
    none_header = _b64(b'{"alg":"none","typ":"JWT"}')
    none_token = f"{none_header}.{_b64(json.dumps(claims).encode())}."
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    bad = {
        "tampered payload": f"{header}.{tampered_payload}.{sig}",
        "tampered signature": f"{header}.{payload}.{_flip(sig)}",
        "alg none": none_token,
        "alg none, signature kept": none_token + sig,
        "RS256": jwt.encode(claims, rsa_key, algorithm="RS256"),
        # HS/RS confusion: HMAC keyed with an RSA public key (PyJWT refuses to make it, so by hand)
        "HS256 with public key": _hs256_by_hand(claims, public_pem),
        "other secret": jwt.encode(claims, "t" * 40, algorithm="HS256"),
        "HS384 with our secret": jwt.encode(claims, SECRET + "x" * 8, algorithm="HS384"),
        "wrong typ": jwt.encode({**claims, "typ": "refresh"}, SECRET, algorithm="HS256"),
        "no exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, SECRET),
        "sub not a number": jwt.encode({**claims, "sub": "x"}, SECRET, algorithm="HS256"),
        "sub an int": jwt.encode({**claims, "sub": user.id}, SECRET, algorithm="HS256"),
        "unknown user": jwt.encode({**claims, "sub": "999"}, SECRET, algorithm="HS256"),
        "garbage": "not.a.token",
        "empty": "",
        "huge": "a" * 100_000,
    }
    for name, token in bad.items():
        try:
            await ikit.identity.authenticate(token)
        except TokenInvalid:
            continue
        pytest.fail(f"accepted: {name}")
    assert (await ikit.identity.authenticate(good)).user_id == user.id


def _flip(sig: str) -> str:
    """Change one character in the middle (the last one may carry only padding bits)."""
    i = len(sig) // 2
    return sig[:i] + ("A" if sig[i] != "A" else "B") + sig[i + 1 :]


def _hs256_by_hand(claims: dict[str, object], key: bytes) -> str:
    hs_header = _b64(b'{"alg":"HS256","typ":"JWT"}')
    signing_input = f"{hs_header}.{_b64(json.dumps(claims).encode())}"
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(sig)}"


async def test_token_expires(ikit: WagerKit, clock: FixedClock) -> None:
    await ikit.identity.register(password="pass word 1", display_name="A", username="ann")
    token = (await ikit.identity.login("ann", "pass word 1")).access_token
    clock.advance(minutes=59)
    await ikit.identity.authenticate(token)
    clock.advance(minutes=1)
    with pytest.raises(TokenExpired):
        await ikit.identity.authenticate(token)


def test_token_service_refuses_weak_configuration() -> None:
    for secret in (None, "", "short", b"x" * 31):
        with pytest.raises(ValueError, match="JWT secret") as info:
            JwtTokenService(secret)
        assert "short" not in str(info.value).replace("too short", "")
    with pytest.raises(ValueError, match="algorithm"):
        JwtTokenService(SECRET, algorithm="none")
    with pytest.raises(ValueError, match="algorithm"):
        JwtTokenService(SECRET, algorithm="RS256")
    with pytest.raises(ValueError, match="HS512 needs at least 64 bytes"):
        JwtTokenService(SECRET, algorithm="HS512")
    JwtTokenService("x" * 64, algorithm="HS512")
    assert SECRET not in repr(JwtTokenService(SECRET))


# -- ban, demotion, whitelist take effect at once ----------------------------------------
async def test_ban_refuses_existing_token_and_login(ikit: WagerKit, system: Actor) -> None:
    user = await ikit.identity.register(password="pass word 1", display_name="A", username="ann")
    token = (await ikit.identity.login("ann", "pass word 1")).access_token
    await ikit.identity.ban(system, user.id, "spam")
    with pytest.raises(AccountBanned):
        await ikit.identity.authenticate(token)
    with pytest.raises(AccountBanned):
        await ikit.identity.login("ann", "pass word 1")
    with pytest.raises(InvalidCredentials):  # a wrong password still says only that
        await ikit.identity.login("ann", "pass word 2")
    await ikit.identity.unban(system, user.id, "appeal")
    assert (await ikit.identity.authenticate(token)).user_id == user.id


async def test_demotion_is_effective_immediately(ikit: WagerKit, system: Actor) -> None:
    await ikit.identity.create_admin(
        system, display_name="Root", password="root pass 1", username="root"
    )
    op = await ikit.identity.register(password="pass word 1", display_name="O", username="opx")
    await ikit.identity.set_role(system, op.id, Role.OPERATOR, "helps out")
    token = (await ikit.identity.login("opx", "pass word 1")).access_token
    actor = await ikit.identity.authenticate(token)
    await ikit.wallets.adjust(actor, op.id, 5, reason="test")
    await ikit.identity.set_role(system, op.id, Role.PLAYER, "stepped down")
    actor = await ikit.identity.authenticate(token)
    assert actor.role is Role.PLAYER
    with pytest.raises(PermissionDenied):
        await ikit.wallets.adjust(actor, op.id, 5, reason="test")
    await assert_conserved(ikit)


async def test_whitelist_mode(store: UnitOfWorkFactory, clock: FixedClock, system: Actor) -> None:
    kit = make_kit(store, clock, IdentityPolicy(whitelist_mode=True))
    user = await kit.identity.register(password="pass word 1", display_name="A", username="ann")
    with pytest.raises(NotWhitelisted):
        await kit.identity.login("ann", "pass word 1")
    with pytest.raises(InvalidCredentials):  # the password is checked first
        await kit.identity.login("ann", "wrong pass")
    await kit.identity.set_whitelisted(system, user.id, True, "friend")
    token = (await kit.identity.login("ann", "pass word 1")).access_token
    assert (await kit.identity.authenticate(token)).user_id == user.id
    await kit.identity.set_whitelisted(system, user.id, False, "not a friend")
    with pytest.raises(NotWhitelisted):
        await kit.identity.authenticate(token)
    # staff get in without being whitelisted
    await kit.identity.set_role(system, user.id, Role.OPERATOR, "staff")
    assert (await kit.identity.authenticate(token)).role is Role.OPERATOR
    # telegram: created, but not admitted
    with pytest.raises(NotWhitelisted):
        await kit.identity.sign_in_telegram(tg_identity(clock, 42))
    async with kit.deps.uow() as uow:
        assert len(await uow.users.list()) == 2
    await assert_conserved(kit)


# -- telegram ---------------------------------------------------------------------------
async def test_telegram_sign_in_creates_once_and_grants_once(
    ikit: WagerKit, clock: FixedClock
) -> None:
    first = await ikit.identity.sign_in_telegram(tg_identity(clock, 42, username="Ann_TG"))
    assert first.user.telegram_id == 42
    assert first.user.display_name == "Ann + Co = &"
    assert first.user.username == "ann_tg"
    assert first.user.role is Role.PLAYER
    assert not first.user.whitelisted
    clock.advance(seconds=30)
    second = await ikit.identity.sign_in_telegram(tg_identity(clock, 42, username="Ann_TG"))
    assert second.user.id == first.user.id
    assert await balance(ikit, first.user.id) == 1000
    assert (await ikit.identity.authenticate(second.access_token)).user_id == first.user.id
    # a taken or invalid Telegram username is simply not used
    other = await ikit.identity.sign_in_telegram(tg_identity(clock, 43, username="ann_tg"))
    assert other.user.username is None
    assert other.user.id != first.user.id
    odd = await ikit.identity.sign_in_telegram(tg_identity(clock, 44, username="ab"))
    assert odd.user.username is None
    await assert_conserved(ikit)


class _StaleTelegramReads:
    """A store whose first ``n`` Telegram-id lookups miss: the unit of work read "no such user"
    just before a concurrent first sign-in of the same Telegram user committed."""

    def __init__(self, inner: UnitOfWorkFactory, misses: int) -> None:
        self.inner, self.misses = inner, misses

    def __call__(self):  # type: ignore[no-untyped-def]
        uow = self.inner()
        outer = self

        class Stale:
            async def __aenter__(self):  # type: ignore[no-untyped-def]
                opened = await uow.__aenter__()
                real = opened.users.get_by_telegram_id

                async def lookup(tg_id: int):  # type: ignore[no-untyped-def]
                    if outer.misses > 0:
                        outer.misses -= 1
                        return None
                    return await real(tg_id)

                opened.users.get_by_telegram_id = lookup
                return opened

            async def __aexit__(self, *exc: object) -> bool | None:
                return await uow.__aexit__(*exc)  # type: ignore[no-any-return]

        return Stale()


async def test_telegram_first_sign_in_that_lost_the_race_signs_in(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    """The loser of two concurrent first sign-ins finds the winner's row when it inserts (a
    unique Telegram id): it must sign in as that user, not answer "already exists"."""
    winner = await make_kit(store, clock).identity.sign_in_telegram(tg_identity(clock, 42))
    loser = make_kit(_StaleTelegramReads(store, misses=1), clock)  # type: ignore[arg-type]
    session = await loser.identity.sign_in_telegram(tg_identity(clock, 42))
    assert session.user.id == winner.user.id
    assert await balance(loser, winner.user.id) == 1000  # the welcome grant, once
    async with store() as uow:
        assert [u.id for u in await uow.users.list() if u.telegram_id == 42] == [winner.user.id]
    await assert_conserved(loser)


async def test_telegram_banned_user_is_refused(ikit: WagerKit, clock: FixedClock) -> None:
    s = await ikit.identity.sign_in_telegram(tg_identity(clock, 42))
    await ikit.identity.ban(Actor.system(), s.user.id, "spam")
    with pytest.raises(AccountBanned):
        await ikit.identity.sign_in_telegram(tg_identity(clock, 42))


async def test_telegram_admin_bootstrap(store: UnitOfWorkFactory, clock: FixedClock) -> None:
    kit = make_kit(store, clock, IdentityPolicy(telegram_admin_ids=frozenset({7, 8})))
    boss = await kit.identity.sign_in_telegram(tg_identity(clock, 7))
    assert boss.user.role is Role.ADMIN
    assert boss.user.whitelisted
    player = await kit.identity.sign_in_telegram(tg_identity(clock, 9))
    assert player.user.role is Role.PLAYER
    # an existing non-admin listed later is promoted at its next sign-in, audited
    plain = make_kit(store, clock)
    early = await plain.identity.sign_in_telegram(tg_identity(clock, 8))
    assert early.user.role is Role.PLAYER
    promoted = await kit.identity.sign_in_telegram(tg_identity(clock, 8))
    assert promoted.user.role is Role.ADMIN
    assert promoted.user.whitelisted
    entries = await kit.audit.list(Actor.system(), action="user.role")
    assert [(e.target, e.details["to"]) for e in entries] == [(promoted.user.owner_ref, "admin")]
    actor = await kit.identity.authenticate(boss.access_token)
    await kit.identity.ban(actor, player.user.id, "rules")
    await assert_conserved(kit)


# -- admin use cases ----------------------------------------------------------------------
async def test_last_admin_cannot_be_demoted_or_banned(ikit: WagerKit, system: Actor) -> None:
    root = await ikit.identity.create_admin(
        display_name="Root", password="root pass 1", email="r@x.io"
    )
    assert root.role is Role.ADMIN
    assert root.whitelisted
    assert root.email == "r@x.io"
    root_actor = Actor.of(root)
    with pytest.raises(Conflict):
        await ikit.identity.set_role(root_actor, root.id, Role.PLAYER, "retire")
    with pytest.raises(Conflict):
        await ikit.identity.set_role(system, root.id, Role.OPERATOR, "retire")
    with pytest.raises(Conflict):
        await ikit.identity.ban(system, root.id, "oops")
    with pytest.raises(Conflict):
        await ikit.identity.ban(root_actor, root.id, "oops")
    second = await ikit.identity.create_admin(
        root_actor, display_name="Two", password="two pass 12", username="two"
    )
    await ikit.identity.set_role(root_actor, root.id, Role.PLAYER, "retire")
    with pytest.raises(Conflict):
        await ikit.identity.set_role(Actor.of(second), second.id, Role.PLAYER, "retire")
    async with ikit.deps.uow() as uow:
        assert [u.role for u in await uow.users.list()] == [Role.PLAYER, Role.ADMIN]
    await assert_conserved(ikit)


async def test_player_and_operator_permissions(ikit: WagerKit, system: Actor) -> None:
    admin = await ikit.identity.create_admin(
        display_name="Root", password="root pass 1", username="root"
    )
    p = await ikit.identity.register(password="pass word 1", display_name="P", username="ppp")
    q = await ikit.identity.register(password="pass word 1", display_name="Q", username="qqq")
    op = await ikit.users.add(system, "Op", role=Role.OPERATOR)
    player, operator = Actor.of(p), Actor.of(op)
    calls = [
        lambda a: ikit.identity.set_role(a, q.id, Role.ADMIN, "r"),
        lambda a: ikit.identity.set_role(a, a.user_id, Role.ADMIN, "r"),
        lambda a: ikit.identity.ban(a, q.id, "r"),
        lambda a: ikit.identity.unban(a, q.id, "r"),
        lambda a: ikit.identity.set_whitelisted(a, q.id, True, "r"),
        lambda a: ikit.identity.set_whitelisted(a, a.user_id, True, "r"),
        lambda a: ikit.identity.create_admin(
            a, display_name="X", password="x pass 123", username="xx"
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            await call(player)
    # operators: moderation of players yes, of staff and roles no
    for call in (calls[0], calls[1], calls[6]):
        with pytest.raises(PermissionDenied):
            await call(operator)
    with pytest.raises(PermissionDenied):
        await ikit.identity.ban(operator, admin.id, "coup")
    banned = await ikit.identity.ban(operator, q.id, "spam")
    assert banned.status is UserStatus.BANNED
    await ikit.identity.unban(operator, q.id, "ok")
    await ikit.identity.set_whitelisted(operator, q.id, True, "ok")
    with pytest.raises(InvalidInput):
        await ikit.identity.ban(operator, q.id, "   ")
    await assert_conserved(ikit)


async def test_admin_actions_are_audited(ikit: WagerKit) -> None:
    admin = await ikit.identity.create_admin(
        display_name="Root", password="root pass 1", username="root"
    )
    a = Actor.of(admin)
    p = await ikit.identity.register(password="pass word 1", display_name="P", username="ppp")
    await ikit.identity.set_role(a, p.id, Role.OPERATOR, "promote")
    await ikit.identity.set_role(a, p.id, Role.OPERATOR, "again: no change, no entry")
    await ikit.identity.ban(a, p.id, "spam")
    await ikit.identity.unban(a, p.id, "appeal")
    await ikit.identity.set_whitelisted(a, p.id, True, "friend")
    entries = await ikit.audit.list(Actor.system(), target=p.owner_ref)
    got = sorted(
        (e.action, e.actor_id, e.actor_name, e.reason, tuple(sorted(e.details.items())))
        for e in entries
    )
    assert got == sorted(
        [
            ("user.create", None, "register", "", (("role", "player"),)),
            ("user.role", admin.id, "Root", "promote", (("from", "player"), ("to", "operator"))),
            ("user.ban", admin.id, "Root", "spam", (("status", "banned"),)),
            ("user.unban", admin.id, "Root", "appeal", (("status", "active"),)),
            ("user.whitelist", admin.id, "Root", "friend", (("whitelisted", "true"),)),
        ]
    )
    assert all(e.at == ikit.deps.clock.now() for e in entries)


async def test_unconfigured_ports_fail_clearly(store: UnitOfWorkFactory) -> None:
    kit = WagerKit(store)
    with pytest.raises(RuntimeError, match="password hasher"):
        await kit.identity.register(password="pass word 1", display_name="A", username="ann")
    with pytest.raises(RuntimeError, match="token service"):
        await kit.identity.authenticate("x")
