"""The one object that writes to the terminal; the only module that imports Rich.

Data goes to stdout (a Rich table for people, or JSON with ``--json``); errors and notes go
to stderr, one plain line each, so a script reading stdout never sees them. Rich is imported
on first use, and honours ``NO_COLOR`` and ``COLUMNS``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Column", "Terminal"]


class Column(NamedTuple):
    """A table column: numbers and times are right-aligned or kept on one line."""

    header: str
    justify: Literal["left", "right"] = "left"
    no_wrap: bool = False


class Terminal:
    """Output for one invocation of the CLI."""

    def __init__(self) -> None:
        self._out: Console | None = None

    @property
    def out(self) -> Console:
        if self._out is None:
            from rich.console import Console

            self._out = Console(highlight=False)
        return self._out

    # -- data ----------------------------------------------------------------------------
    def json(self, data: Any) -> None:
        """Machine output: one JSON document on stdout."""
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def table(
        self,
        columns: Sequence[Column],
        rows: Iterable[Sequence[object]],
        *,
        title: str | None = None,
        caption: str | None = None,
    ) -> None:
        """A table for people; cells are printed as plain text (no Rich markup)."""
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, title_justify="left")
        for col in columns:
            table.add_column(
                col.header,
                justify=col.justify,
                no_wrap=col.no_wrap,
                overflow="ellipsis" if col.no_wrap else "fold",
            )
        for row in rows:
            table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
        self.out.print(table)

    def line(self, text: str) -> None:
        """A plain line of human output on stdout (no markup, no wrapping)."""
        self.out.print(text, markup=False, soft_wrap=True)

    # -- diagnostics ---------------------------------------------------------------------
    def note(self, text: str) -> None:
        """Progress or context for people, on stderr."""
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def error(self, text: str) -> None:
        """The one line an aborted command prints."""
        sys.stderr.write(f"error: {text}\n")
        sys.stderr.flush()
