"""The text rule (``wagerkit.domain.text``) as properties: whatever ``clean_text`` accepts has
no forbidden character, is trimmed, within its cap, and cleaning it again changes nothing;
text that already follows the rule passes unchanged; anything with a forbidden character is
refused with ``InvalidInput`` naming the field; ``strip_forbidden`` always yields allowed text.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wagerkit.domain.chat import clean_message
from wagerkit.domain.errors import InvalidInput
from wagerkit.domain.identity import validate_display_name
from wagerkit.domain.telegram import TelegramIdentity
from wagerkit.domain.text import (
    BIDI_CONTROLS,
    clean_name,
    clean_text,
    forbidden_in,
    is_forbidden,
    strip_forbidden,
)

C0_C1 = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
FORBIDDEN = sorted({*C0_C1, *BIDI_CONTROLS, "\u2028", "\u2029"})
#: every character, with the dangerous ones (and white space) drawn often
chars = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from([*FORBIDDEN, " ", "\u00a0", "\u3000", "\u200e", "\u200f"]),
)
texts = st.text(chars, max_size=80)
caps = st.integers(min_value=1, max_value=100)
flags = st.booleans()


def _accepts(value: str, **kw: object) -> str | None:
    try:
        return clean_text(value, "field", **kw)  # type: ignore[arg-type]
    except InvalidInput:
        return None


@given(texts, caps, flags, flags, flags)
def test_accepted_text_follows_the_rule_and_is_a_fixed_point(
    value: str, cap: int, multiline: bool, required: bool, collapse: bool
) -> None:
    kw = {"max_length": cap, "multiline": multiline, "required": required, "collapse": collapse}
    out = _accepts(value, **kw)
    if out is None:
        return
    assert forbidden_in(out, multiline=multiline) is None
    assert out == out.strip()
    assert len(out) <= cap
    assert out or not required
    if collapse:
        assert "  " not in out
    assert clean_text(out, "field", **kw) == out  # type: ignore[arg-type]


@given(texts, flags)
def test_text_with_a_forbidden_character_is_refused_naming_the_field(
    value: str, multiline: bool
) -> None:
    if forbidden_in(value, multiline=multiline) is None:
        return
    with pytest.raises(InvalidInput, match=r"^title must not contain"):
        clean_text(value, "title", max_length=10_000, multiline=multiline)


@given(texts, flags)
def test_allowed_text_passes_unchanged(value: str, multiline: bool) -> None:
    allowed = strip_forbidden(value, multiline=multiline).strip()
    if not allowed:
        return
    assert clean_text(allowed, "f", max_length=len(allowed), multiline=multiline) == allowed


@given(texts, flags)
def test_strip_forbidden_leaves_only_allowed_characters(value: str, multiline: bool) -> None:
    out = strip_forbidden(value, multiline=multiline)
    assert forbidden_in(out, multiline=multiline) is None
    assert strip_forbidden(out, multiline=multiline) == out
    assert all(c in value or c == " " for c in out)


@given(st.text(chars, min_size=1, max_size=200))
def test_the_cap_is_respected(value: str) -> None:
    out = _accepts(value, max_length=64)
    assert out is None or len(out) <= 64
    if out is None and forbidden_in(value) is None and value.strip():
        assert len(value.strip()) > 64


@pytest.mark.parametrize("char", FORBIDDEN)
def test_each_forbidden_character_is_refused_in_a_name(char: str) -> None:
    assert is_forbidden(char)
    with pytest.raises(InvalidInput, match="display_name must not contain"):
        validate_display_name(f"ann{char}lee")


def test_the_seed_style_evil_name_is_refused_and_marks_are_allowed() -> None:
    with pytest.raises(InvalidInput, match=r"display_name .* \(found U\+001B\)"):
        validate_display_name("\u001b[2J\u0000evil\u202e")
    with pytest.raises(InvalidInput, match="bidi control"):
        validate_display_name("evil\u202e")
    assert validate_display_name("  Ann \u200fLee\u00a0 ") == "Ann \u200fLee"
    assert clean_name("Zoë   Ø") == "Zoë Ø"


def test_chat_keeps_line_breaks_and_tabs_and_refuses_the_rest() -> None:
    assert clean_message("  hi\n\tthere\u2028you \n") == "hi\n\tthere\u2028you"
    for bad in ("a\rb", "a\x00", "a\x1b[2J", "a\x85", "a\u202eb", "a\u2066b"):
        with pytest.raises(InvalidInput, match="chat message must not contain"):
            clean_message(bad)


@given(texts, st.none() | texts, st.none() | texts)
def test_a_telegram_name_is_cleaned_never_refused(
    first: str, last: str | None, username: str | None
) -> None:
    from datetime import UTC, datetime

    identity = TelegramIdentity(
        id=7,
        first_name=first,
        last_name=last,
        username=username,
        photo_url=None,
        language_code=None,
        auth_date=datetime(2026, 1, 1, tzinfo=UTC),
        source="webapp",
    )
    name = identity.display_name
    assert validate_display_name(name) == name
