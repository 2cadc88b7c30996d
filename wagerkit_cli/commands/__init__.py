"""One module per command group; each imports only Typer and the standard library at import."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["CurrencyOpt", "JsonOpt", "KeyOpt"]

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Machine output: one JSON document on stdout.")
]
CurrencyOpt = Annotated[
    str | None,
    typer.Option("--currency", "-c", help="Currency code (default: the first configured one)."),
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--key",
        help="Idempotency key (1-64 of A-Z a-z 0-9 . _ : -): repeating the command with the "
        "same key moves nothing and returns the first transfer.",
    ),
]
