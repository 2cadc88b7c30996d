"""Price predictions over HTTP (docs/predictions.md, docs/http.md): ``routes`` holds the
handlers and the three blueprints (``/predictions``, ``/rounds``, ``/admin/...``), ``models``
the request bodies (with the seeds' field names as synonyms) and the response schemas."""

from __future__ import annotations

from .routes import admin_predictions_blueprint, predictions_blueprint, rounds_blueprint

__all__ = ["admin_predictions_blueprint", "predictions_blueprint", "rounds_blueprint"]
