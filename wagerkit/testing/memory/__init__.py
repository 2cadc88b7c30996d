"""The in-memory store: one module per area's repository (as in ``wagerkit.adapters.sql``),
all over one ``State``; ``store.py`` registers them on the unit of work."""
