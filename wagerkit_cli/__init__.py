"""The ``wagerkit`` command line: a Typer app and the CLI's composition root.

Layout (after pypa/hatch): ``main`` builds the command tree and owns the one error boundary;
``commands/`` holds one module per command group; ``terminal`` is the only user of Rich;
``runtime`` reads settings, opens the database and runs the async use cases. Modules import
only Typer and the standard library at import time, so ``wagerkit --help`` stays instant;
SQLAlchemy, pydantic and the services are imported inside the commands that need them.
"""
