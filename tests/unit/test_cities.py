"""The city directory: the bundled Russian list, folded look-up and prefix search."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wagerkit import CityDirectory, InvalidInput, bundled_cities, fold_city

CITIES = bundled_cities()
# prefixes drawn from the real names, plus arbitrary text
prefixes = st.one_of(
    st.builds(
        lambda name, n, upper: name[:n].upper() if upper else name[:n],
        st.sampled_from(CITIES.names),
        st.integers(0, 8),
        st.booleans(),
    ),
    st.text(alphabet="абвгдеёжзиклмнопрстуфхцчшщэюяАЕЁ -", max_size=4),
)


def test_the_bundled_list() -> None:
    assert len(CITIES) >= 1000
    assert CITIES.names[:3] == ("Москва", "Санкт-Петербург", "Новосибирск")
    for name in ("Орёл", "Королёв", "Ростов-на-Дону", "Петропавловск-Камчатский", "Кызыл"):
        assert CITIES.contains(name), name
    # one line per name, no duplicates after folding, no stray white space
    assert len({fold_city(n) for n in CITIES}) == len(CITIES)
    assert all(n == n.strip() and n[0].isupper() for n in CITIES)
    assert bundled_cities() is CITIES  # loaded once


def test_search_is_case_and_yo_insensitive_in_list_order() -> None:
    assert CITIES.search("мос", limit=1) == ["Москва"]
    assert CITIES.search("ОРЕ")[:2] == ["Оренбург", "Орёл"]
    assert CITIES.search("орел") == ["Орёл"]
    assert CITIES.search("орё") == CITIES.search("оре")
    ростов = CITIES.search("Ростов")
    assert ростов[0] == "Ростов-на-Дону"
    assert "Ростов" in ростов
    novo = CITIES.search("Но", limit=50)
    assert novo.index("Новосибирск") < novo.index("Новоалтайск")
    assert CITIES.search("", limit=2) == ["Москва", "Санкт-Петербург"]
    assert CITIES.search("мос", limit=0) == []
    assert CITIES.search("Zürich") == []


def test_canonical_and_contains() -> None:
    assert CITIES.canonical("  орел ") == "Орёл"
    assert CITIES.canonical("санкт-петербург") == "Санкт-Петербург"
    assert CITIES.canonical("Нигде") is None
    assert "королев" in CITIES
    assert 42 not in CITIES
    assert not CITIES.contains("")


def test_extended_adds_operator_names_and_checks_them() -> None:
    more = CITIES.extended(["Зеленоград", "москва", "  Новая   Москва "])
    assert len(more) == len(CITIES) + 2  # "москва" is already there
    assert more.canonical("новая москва") == "Новая Москва"
    assert more.search("Зелено")[-1] == "Зеленоград"
    assert CITIES.canonical("Зеленоград") is None  # the original is unchanged
    for bad in ("", "x" * 65, "Evil\u202e", "a\nb"):
        with pytest.raises(InvalidInput):
            CITIES.extended([bad])


def test_import_wagerkit_does_not_read_the_list() -> None:
    code = (
        "import sys, wagerkit, wagerkit.domain.cities as c; "
        "assert c.bundled_cities.cache_info().currsize == 0; "
        "assert 'httpx' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@given(prefixes, st.integers(1, 30))
def test_search_results_start_with_the_prefix(prefix: str, limit: int) -> None:
    found = CITIES.search(prefix, limit)
    assert len(found) <= limit
    assert all(fold_city(name).startswith(fold_city(prefix)) for name in found)
    ranks = [CITIES.names.index(name) for name in found]
    assert ranks == sorted(ranks)  # list order
    # nothing matching is skipped before the last one returned
    if found and len(found) < limit:
        assert found == [n for n in CITIES if fold_city(n).startswith(fold_city(prefix))]


@given(st.one_of(st.sampled_from(CITIES.names), st.text(max_size=20)), st.booleans())
def test_canonical_is_idempotent(name: str, upper: bool) -> None:
    query = name.upper() if upper else name.lower()
    canonical = CITIES.canonical(query)
    if canonical is not None:
        assert CITIES.canonical(canonical) == canonical
        assert fold_city(canonical) == fold_city(query)
        assert CITIES.contains(query)
    else:
        assert not CITIES.contains(query)


@given(st.lists(st.sampled_from(["Тула", "тула", "Тверь", "ТВЕРЬ", "Тамбов"]), max_size=8))
def test_directories_keep_the_first_spelling(names: list[str]) -> None:
    directory = CityDirectory(names)
    assert len(directory) == len({fold_city(n) for n in names})
    for name in names:
        first = next(n for n in names if fold_city(n) == fold_city(name))
        assert directory.canonical(name) == first
