"""CSV replay: prices from a file of ``observed_at,symbol,price`` rows (a header line with
those names first). ``observed_at`` is ISO 8601 with a zone (``2026-01-01T12:00:00Z``);
rows may come in any order. ``quote(symbol, at)`` is the latest row at or before ``at``,
so replaying a recorded day through a ``FixedClock`` gives back that day's prices."""

from __future__ import annotations

import bisect
import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from ...domain.errors import InvalidInput
from ...domain.prices import Tick, parse_price, parse_symbol

__all__ = ["CsvReplayFeed", "parse_time"]

MAX_FILE_BYTES = 256 * 1024 * 1024
_HEADER = ["observed_at", "symbol", "price"]


def parse_time(text: str) -> datetime:
    """An ISO 8601 time with a zone (``Z`` or an offset), as UTC; naive times are refused."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"not an ISO 8601 time: {text[:40]!r}") from None
    if value.tzinfo is None:
        raise InvalidInput(f"a time needs a zone (Z or +hh:mm): {text[:40]!r}")
    return value.astimezone(UTC)


class CsvReplayFeed:
    source = "csv"

    def __init__(self, ticks: Iterable[Tick]) -> None:
        self._rows: dict[str, list[Tick]] = {}
        for tick in ticks:
            self._rows.setdefault(tick.symbol, []).append(tick)
        for rows in self._rows.values():
            rows.sort(key=lambda t: t.observed_at)

    @classmethod
    def from_text(cls, text: str) -> CsvReplayFeed:
        """Read the CSV text; a bad row raises ``InvalidInput`` naming its line."""
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header] != _HEADER:
            raise InvalidInput("a price CSV starts with the header observed_at,symbol,price")
        ticks = []
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            line = reader.line_num
            if len(row) != 3:
                raise InvalidInput(f"price CSV line {line}: expected observed_at,symbol,price")
            try:
                ticks.append(
                    Tick(parse_symbol(row[1]), parse_time(row[0]), parse_price(row[2]), cls.source)
                )
            except InvalidInput as exc:
                raise InvalidInput(f"price CSV line {line}: {exc.detail}") from None
        return cls(ticks)

    @classmethod
    def from_path(cls, path: str | Path) -> CsvReplayFeed:
        p = Path(path)
        try:
            if p.stat().st_size > MAX_FILE_BYTES:
                raise InvalidInput(f"price CSV {p} is larger than {MAX_FILE_BYTES} bytes")
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read price CSV {p}: {exc}") from None
        return cls.from_text(text)

    def symbols(self) -> list[str]:
        return sorted(self._rows)

    async def quote(self, symbol: str, at: datetime) -> Tick | None:
        rows = self._rows.get(symbol)
        if not rows:
            return None
        i = bisect.bisect_right(rows, at, key=lambda t: t.observed_at)
        return rows[i - 1] if i else None
