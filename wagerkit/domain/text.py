"""The one rule for human-readable text: names, titles, descriptions, chat, reasons.

Text that people type is shown to other people: in the web page, in Telegram, in a terminal
(the CLI, logs). So every such field, whoever sets it, passes ``clean_text``:

- **No C0 or C1 control characters** (U+0000-U+001F, U+007F-U+009F): NUL, escape sequences
  that clear or repaint a terminal, carriage returns that overwrite a line. Multi-line fields
  (``multiline=True``: event descriptions, chat messages) keep line feed and tab.
- **No bidi embeddings, overrides or isolates** (U+202A-U+202E, U+2066-U+2069): they reorder
  the text around the field too (``"evil\\u202e"`` reverses whatever is printed next).
  Direction *marks* (U+200E, U+200F, U+061C) are allowed: they act on their neighbours only,
  cannot leak out of the field, and right-to-left writing needs them.
- **No line or paragraph separators** (U+2028, U+2029) in single-line fields.
- **Trimmed**, then **length-capped** per field (in code points), and empty refused unless the
  field is optional. Names (``collapse=True``) also collapse inner runs of white space.

Text that breaks the rule is refused with ``InvalidInput`` naming the field, never silently
changed: the caller sees what was wrong. The exception is text wagerkit did not get from the
person in front of it, such as Telegram first and last names: refusing a Telegram sign-in
because of a name would lock the user out, so ``strip_forbidden`` removes the forbidden
characters (a line break becomes a space) before the name is checked.

``clean_text`` is idempotent, and text that already follows the rule passes unchanged.
"""

from __future__ import annotations

from .errors import InvalidInput

__all__ = [
    "BIDI_CONTROLS",
    "MAX_NAME",
    "MAX_REASON",
    "clean_name",
    "clean_reason",
    "clean_text",
    "forbidden_in",
    "is_forbidden",
    "strip_forbidden",
]

#: display names (users)
MAX_NAME = 64
#: reasons given by operators (audit trail, adjustments, bans, payments)
MAX_REASON = 500

#: embeddings, overrides (U+202A-U+202E) and isolates (U+2066-U+2069)
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_SEPARATORS = frozenset("\u2028\u2029")
_LINE_BREAKS = frozenset("\n\t")
#: characters ``strip_forbidden`` turns into a space rather than dropping (they separate words)
_SPACE_LIKE = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")


def is_forbidden(char: str, *, multiline: bool = False) -> bool:
    """Whether one character breaks the rule (in a multi-line field when ``multiline``)."""
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return not (multiline and char in _LINE_BREAKS)
    if char in BIDI_CONTROLS:
        return True
    return char in _SEPARATORS and not multiline


def forbidden_in(text: str, *, multiline: bool = False) -> str | None:
    """The first forbidden character of ``text``, or None."""
    for char in text:
        if is_forbidden(char, multiline=multiline):
            return char
    return None


def strip_forbidden(text: str, *, multiline: bool = False) -> str:
    """``text`` without its forbidden characters: white-space-like controls and separators
    become a space, the rest are dropped. For text from elsewhere (Telegram names); the
    result still goes through ``clean_text``/``clean_name``."""
    return "".join(
        (" " if c in _SPACE_LIKE else "") if is_forbidden(c, multiline=multiline) else c
        for c in text
    )


def clean_text(
    value: object,
    field: str,
    *,
    max_length: int,
    required: bool = True,
    multiline: bool = False,
    collapse: bool = False,
    size_error: str | None = None,
) -> str:
    """``value`` as stored: checked (text, no forbidden character), trimmed, inner white
    space collapsed when ``collapse``, 1 (0 unless ``required``) to ``max_length``
    characters. Raises ``InvalidInput`` naming ``field`` (``size_error``, when given, is the
    message for a wrong length)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text")
    bad = forbidden_in(value, multiline=multiline)
    if bad is not None:
        what = "bidi control" if bad in BIDI_CONTROLS else "control"
        raise InvalidInput(f"{field} must not contain {what} characters (found U+{ord(bad):04X})")
    cleaned = " ".join(value.split()) if collapse else value.strip()
    if required and not cleaned:
        raise InvalidInput(size_error or f"{field} must not be empty")
    if len(cleaned) > max_length:
        raise InvalidInput(size_error or f"{field} must be at most {max_length} characters")
    return cleaned


def clean_name(value: object, field: str = "display_name", *, max_length: int = MAX_NAME) -> str:
    """A single-line name: ``clean_text`` with inner white space collapsed."""
    return clean_text(
        value,
        field,
        max_length=max_length,
        collapse=True,
        size_error=f"{field.replace('_', ' ')} must be 1-{max_length} characters",
    )


def clean_reason(value: object, field: str = "reason", *, required: bool = True) -> str:
    """An operator's reason (audit trail): single line, at most ``MAX_REASON`` characters;
    required ones are 1-500 characters."""
    return clean_text(
        value,
        field,
        max_length=MAX_REASON,
        required=required,
        size_error=f"a reason of 1-{MAX_REASON} characters is required" if required else None,
    )
