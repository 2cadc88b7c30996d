"""Routes outside the versioned API: health, readiness, metrics, the docs page."""
