"""``wagerkit auth``: issue an access token for a user; check Telegram sign-in data by hand.

``token`` signs a short-lived access token with the server's JWT secret (the configured
``WAGERKIT_JWT_SECRET``, else the one kept next to a SQLite database: the same rule as
``wagerkit serve``), so an operator, or a newcomer on the demo, can call the API as a user.

The two ``verify-*`` commands need no database: they run the same pure checks as the server
(``wagerkit.domain.telegram``) and print the verified user, or refuse with the exact reason
(``error: telegram_<reason>: <detail>``, exit code 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import abort
from ..output import user_json, when
from ..runtime import state
from ..terminal import Column
from . import JsonOpt

if TYPE_CHECKING:
    from wagerkit import Session, TelegramIdentity, WagerKit

app = typer.Typer(
    help="Access tokens for users; Telegram sign-in: verify Login Widget data and Mini App "
    "initData.",
    no_args_is_help=True,
)

TOKEN_ENV = "WAGERKIT_TELEGRAM_BOT_TOKEN"  # noqa: S105 - the variable's name, not a secret

BotTokenOpt = Annotated[
    str | None,
    typer.Option(
        "--bot-token",
        envvar=TOKEN_ENV,
        metavar="TOKEN",
        help=f"The bot's token from @BotFather (or set {TOKEN_ENV}).",
        show_default=False,
    ),
]
IgnoreExpiryOpt = Annotated[
    bool,
    typer.Option(
        "--ignore-expiry",
        help="Skip the auth_date freshness check (1 day old, 5 minutes ahead): debug only.",
    ),
]

FIELD_COLUMNS = [Column("Field", no_wrap=True), Column("Value")]


def identity_json(ident: TelegramIdentity) -> dict[str, Any]:
    return {
        "id": ident.id,
        "first_name": ident.first_name,
        "last_name": ident.last_name,
        "username": ident.username,
        "photo_url": ident.photo_url,
        "language_code": ident.language_code,
        "auth_date": ident.auth_date.isoformat(),
        "source": ident.source,
        "display_name": ident.display_name,
    }


def _show(ctx: typer.Context, ident: TelegramIdentity, checks: list[str], as_json: bool) -> None:
    terminal = state(ctx).terminal
    if as_json:
        terminal.json(identity_json(ident))
        return
    rows: list[list[object]] = [
        ["Telegram id", ident.id],
        ["Display name", ident.display_name],
        ["First name", ident.first_name],
        ["Last name", ident.last_name],
        ["Username", ident.username],
        ["Language", ident.language_code],
        ["Photo URL", ident.photo_url],
        ["Signed at (UTC)", when(ident.auth_date)],
        ["Source", ident.source],
    ]
    terminal.table(
        FIELD_COLUMNS, rows, title="Telegram sign-in verified", caption="; ".join(checks)
    )


def _require_token(bot_token: str | None) -> str:
    if not bot_token:
        raise abort(f"give --bot-token or set {TOKEN_ENV}")
    return bot_token


def _freshness(ignore_expiry: bool) -> str:
    return "auth_date NOT checked" if ignore_expiry else "auth_date fresh"


@app.command("token")
def token(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(metavar="USER", help="User id or username.")],
    minutes: Annotated[
        int, typer.Option(min=1, max=1440, help="Lifetime of the token in minutes.")
    ] = 15,
    as_json: JsonOpt = False,
) -> None:
    """Print a short-lived access token for USER: "Authorization: Bearer <token>".

    Signed with the server's JWT secret (WAGERKIT_JWT_SECRET, else the file
    kept next to a SQLite database, made here if the server has not yet).
    Refused for a banned user and, in whitelist mode, a player not whitelisted."""
    from datetime import timedelta

    from wagerkit import UserNotFound
    from wagerkit.adapters.tokens import JwtTokenService
    from wagerkit.config import SettingsError

    st = state(ctx)
    try:
        settings, note = st.settings.with_jwt_secret()
        secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
        tokens = JwtTokenService(
            secret, algorithm=settings.jwt_algorithm, lifetime=timedelta(minutes=minutes)
        )
    except (SettingsError, ValueError) as exc:
        raise abort(str(exc), code="invalid_settings") from None
    if note is not None:
        st.terminal.note(note)

    async def work(kit: WagerKit) -> Session:
        async with kit.deps.uow() as uow:
            found = (
                await uow.users.get(int(user))
                if user.isdigit()
                else await uow.users.get_by_username(user.strip().lower())
            )
        if found is None:
            raise UserNotFound(f"no user {user[:64]!r}")
        kit.deps.tokens = tokens
        return kit.identity.session_for(found)

    session = st.run(work)
    if as_json:
        st.terminal.json(
            {
                "access_token": session.access_token,
                "token_type": "bearer",
                "expires_at": session.expires_at.isoformat(),
                "user": user_json(session.user),
            }
        )
        return
    st.terminal.line(session.access_token)


@app.command("verify-webapp")
def verify_webapp(
    ctx: typer.Context,
    init_data: Annotated[
        str,
        typer.Argument(
            metavar="INIT_DATA",
            help="The Mini App's raw initData (Telegram.WebApp.initData), quoted for the shell.",
        ),
    ],
    bot_token: BotTokenOpt = None,
    bot_id: Annotated[
        int | None,
        typer.Option(
            "--bot-id",
            min=1,
            metavar="ID",
            help="Also check the third-party Ed25519 signature for this bot id.",
        ),
    ] = None,
    test_keys: Annotated[
        bool,
        typer.Option(
            "--test-keys",
            help="Check the signature with Telegram's test-environment key (with --bot-id).",
        ),
    ] = False,
    ignore_expiry: IgnoreExpiryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Verify Mini App initData: the hash (bot token) and, with --bot-id, the signature."""
    token = _require_token(bot_token)
    if test_keys and bot_id is None:
        raise abort("--test-keys needs --bot-id")
    from datetime import UTC, datetime

    from wagerkit import TELEGRAM_PRODUCTION_PUBLIC_KEY as PRODUCTION_PUBLIC_KEY
    from wagerkit import TELEGRAM_TEST_PUBLIC_KEY as TEST_PUBLIC_KEY
    from wagerkit import verify_init_data

    checks = ["hash matches the bot token"]
    ed25519 = None
    if bot_id is not None:
        from wagerkit.adapters.crypto import ed25519_verify

        ed25519 = ed25519_verify
        key_name = "test" if test_keys else "production"
        checks.append(f"signature verifies for bot {bot_id} ({key_name} key)")
    ident = verify_init_data(
        init_data,
        now=datetime.now(UTC),
        bot_token=token,
        bot_id=bot_id,
        ed25519=ed25519,
        public_key=TEST_PUBLIC_KEY if test_keys else PRODUCTION_PUBLIC_KEY,
        ignore_expiry=ignore_expiry,
    )
    checks.append(_freshness(ignore_expiry))
    _show(ctx, ident, checks, as_json)


@app.command("verify-widget")
def verify_widget(
    ctx: typer.Context,
    data: Annotated[
        str,
        typer.Argument(
            metavar="JSON",
            help='The Login Widget fields as one JSON object, e.g. \'{"id": 1, ..., "hash": "…"}\'.',
        ),
    ],
    bot_token: BotTokenOpt = None,
    ignore_expiry: IgnoreExpiryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Verify Telegram Login Widget data (the hash, with the bot token)."""
    token = _require_token(bot_token)
    import json
    from datetime import UTC, datetime

    from wagerkit import TELEGRAM_MAX_INPUT_BYTES as MAX_INPUT_BYTES
    from wagerkit import TelegramMalformed, verify_login_widget

    if len(data) > 2 * MAX_INPUT_BYTES:
        raise TelegramMalformed(f"Login Widget data is larger than {MAX_INPUT_BYTES} bytes")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise TelegramMalformed(f"Login Widget data has the field {key!r} more than once")
            out[key] = value
        return out

    try:
        fields = json.loads(data, object_pairs_hook=no_duplicates)
    except (ValueError, RecursionError):  # a duplicate raises TelegramMalformed itself
        raise TelegramMalformed("Login Widget data is not valid JSON") from None
    if not isinstance(fields, dict):
        raise TelegramMalformed("Login Widget data must be a JSON object of fields")
    ident = verify_login_widget(fields, token, now=datetime.now(UTC), ignore_expiry=ignore_expiry)
    _show(ctx, ident, ["hash matches the bot token", _freshness(ignore_expiry)], as_json)
