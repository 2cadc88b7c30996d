"""Each store registers every area's repository once: the registration lists name exactly the
repositories of the ``UnitOfWork`` port, and an entered unit of work holds one of each, of
the class its typed attribute declares."""

from __future__ import annotations

import inspect
import typing

from wagerkit.adapters.sql import SqlUnitOfWork
from wagerkit.adapters.sql.store import REPOSITORIES as SQL_REPOSITORIES
from wagerkit.ports import UnitOfWork, UnitOfWorkFactory
from wagerkit.testing import InMemoryUnitOfWork
from wagerkit.testing.memory.store import REPOSITORIES as MEMORY_REPOSITORIES

PORT_AREAS = {name for name, v in inspect.getmembers(UnitOfWork) if isinstance(v, property)}


def test_the_registration_lists_name_every_repository_of_the_port_once() -> None:
    assert "ledger" in PORT_AREAS  # the port declares its repositories as properties
    for registered in (SQL_REPOSITORIES, MEMORY_REPOSITORIES):
        names = [name for name, _ in registered]
        assert len(names) == len(set(names))
        assert set(names) == PORT_AREAS


def test_each_registered_repository_has_the_declared_type() -> None:
    for uow_class, registered in (
        (SqlUnitOfWork, SQL_REPOSITORIES),
        (InMemoryUnitOfWork, MEMORY_REPOSITORIES),
    ):
        hints = typing.get_type_hints(uow_class)
        assert {name: hints[name] for name, _ in registered} == dict(registered)


async def test_an_entered_unit_of_work_holds_every_repository(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        for name in PORT_AREAS:
            assert getattr(uow, name) is not None
        assert len({id(getattr(uow, name)) for name in PORT_AREAS}) == len(PORT_AREAS)
