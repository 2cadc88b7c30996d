"""``wagerkit events`` and ``wagerkit bets``: pari-mutuel events for operators.

Times are ISO 8601 with a zone (``2030-05-01T18:00:00+02:00`` or ``...Z``) and are shown in
UTC. Stakes are human amounts in the event's currency (``--min-stake 0.50 -c RUB``). An
outcome is named on the command line by its id or by its name (a number that is the id of one
of the event's outcomes is read as that id, anything else as a name, case-insensitive).

Settling and voiding a large event runs in chunks; on a terminal (and without ``--json``) a
progress bar on stderr follows them.

``common`` holds the apps and the views; ``create``, ``show`` (list and show), ``lifecycle``
(open, lock, settle, void) and ``bets`` add their commands to the apps when imported, in the
order ``--help`` lists them.
"""

# isort: skip_file
from __future__ import annotations

from .common import (
    app,
    bet_json,
    bets_app,
    event_json,
    event_row,
    iso,
    outcome_arg,
    parse_time,
    utc,
)

# The order of this import is the order of the commands in ``wagerkit events --help``.
from . import create, show, lifecycle, bets  # noqa: F401

__all__ = [
    "app",
    "bet_json",
    "bets_app",
    "event_json",
    "event_row",
    "iso",
    "outcome_arg",
    "parse_time",
    "utc",
]
