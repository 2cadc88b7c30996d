"""Cities: the names an order's city is checked against, and prefix search for autocomplete.

A ``CityDirectory`` is an ordered list of city names. Names are compared *folded*: case-folded,
``ё`` read as ``е`` and runs of white space collapsed, so ``"орел"``, ``"ОРЁЛ"`` and
``" Орёл "`` are all the city ``"Орёл"``; ``canonical`` gives back the spelling of the list.
Two names that fold alike are one city (the first spelling wins).

``search(prefix)`` returns the names whose folded form starts with the folded prefix, **in the
order of the list**, at most ``limit``. The bundled list (``wagerkit/data/cities_ru.txt``) puts
the 185 largest cities first (down to about 80,000 inhabitants), roughly largest first, then
the others alphabetically, so ``search("Но")`` offers Новосибирск before Новоалтайск. An empty prefix
gives the first ``limit`` names (the largest cities).

``bundled_cities()`` loads the bundled Russian list once, on first use (``import wagerkit``
does not read it); ``extended(names)`` adds an operator's names (checked with
``text.clean_name``) at the end of a copy.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Iterator
from importlib import resources

from .text import clean_name

__all__ = ["MAX_CITY_NAME", "CityDirectory", "bundled_cities", "fold_city"]

#: the longest city name accepted (in code points)
MAX_CITY_NAME = 64


def fold_city(name: str) -> str:
    """The form names are compared in: case-folded, ``ё`` as ``е``, white space collapsed."""
    return " ".join(name.casefold().replace("ё", "е").split())


class CityDirectory:
    """An immutable, ordered set of city names with folded look-up and prefix search."""

    __slots__ = ("_by_folded", "_names", "_sorted")

    def __init__(self, names: Iterable[str]) -> None:
        kept: list[str] = []
        by_folded: dict[str, int] = {}
        for raw in names:
            name = clean_name(raw, "city", max_length=MAX_CITY_NAME)
            folded = fold_city(name)
            if folded not in by_folded:
                by_folded[folded] = len(kept)
                kept.append(name)
        self._names = tuple(kept)
        self._by_folded = by_folded
        #: (folded name, rank) sorted by folded name: a prefix is a contiguous range
        self._sorted = sorted(by_folded.items())

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __repr__(self) -> str:
        return f"CityDirectory({len(self._names)} names)"

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def search(self, prefix: str, limit: int = 10) -> list[str]:
        """At most ``limit`` names starting with ``prefix`` (folded), in list order."""
        if limit <= 0:
            return []
        key = fold_city(prefix)
        if not key:
            return list(self._names[:limit])
        start = bisect.bisect_left(self._sorted, (key,))
        ranks: list[int] = []
        for folded, rank in self._sorted[start:]:
            if not folded.startswith(key):
                break
            ranks.append(rank)
        return [self._names[r] for r in sorted(ranks)[:limit]]

    def contains(self, name: str) -> bool:
        return fold_city(name) in self._by_folded

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.contains(name)

    def canonical(self, name: str) -> str | None:
        """The list's spelling of ``name`` (folded match), or None if it is not a city here."""
        rank = self._by_folded.get(fold_city(name))
        return None if rank is None else self._names[rank]

    def extended(self, extra_names: Iterable[str]) -> CityDirectory:
        """A new directory: these names, then the extra ones not already present.
        ``InvalidInput`` for an extra name that breaks the text rule or is too long."""
        return CityDirectory([*self._names, *extra_names])


@functools.cache
def bundled_cities() -> CityDirectory:
    """The bundled list of Russian cities (read once, on first call)."""
    text = resources.files("wagerkit").joinpath("data/cities_ru.txt").read_text(encoding="utf-8")
    return CityDirectory(line for line in text.splitlines() if line.strip())
