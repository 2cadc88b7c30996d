"""docs/ledger.md lists every error the code can raise, with its HTTP status."""

from __future__ import annotations

import re
from pathlib import Path

from wagerkit.domain.errors import all_error_types
from wagerkit_http.errors import status_for

DOC = Path(__file__).resolve().parents[2] / "docs" / "ledger.md"


def test_every_error_is_documented_with_its_status() -> None:
    rows = {
        m.group(1): (m.group(2), int(m.group(3)))
        for m in re.finditer(r"^\| `(\w+)` \| `(\w+)` \| (\d{3}) \|", DOC.read_text(), re.M)
    }
    expected = {cls.code: (cls.__name__, status_for(cls)) for cls in all_error_types()}
    assert rows == expected
