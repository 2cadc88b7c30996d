"""The group-commit primitive: one batch in flight per loop, each caller answered after its
batch's run, conflicting commands never in one batch, nothing decided on data read before it
was submitted."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wagerkit.services.groupcommit import GroupCommit


class Recorder:
    """A ``run`` that records its batches, answers ``cmd * 10`` (refuses negatives) and can
    be held open by a gate."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[int, int]]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.committed: list[int] = []

    async def run(self, batch: Sequence[tuple[int, int]]) -> list[int | Exception]:
        self.batches.append(list(batch))
        await self.gate.wait()
        await asyncio.sleep(0)
        answers: list[int | Exception] = []
        for _key, value in batch:
            if value < 0:
                answers.append(ValueError(f"refused {value}"))
            else:
                answers.append(value * 10)
                self.committed.append(value)
        return answers


@settings(max_examples=60, deadline=None)
@given(
    commands=st.lists(st.tuples(st.integers(0, 4), st.integers(-3, 50)), min_size=1, max_size=60),
    max_batch=st.integers(1, 16),
)
def test_every_caller_gets_its_own_answer_and_batches_respect_keys_and_size(
    commands: list[tuple[int, int]], max_batch: int
) -> None:
    async def main() -> None:
        rec = Recorder()
        group: GroupCommit[tuple[int, int], int] = GroupCommit(
            rec.run, max_batch=max_batch, conflict_key=lambda c: c[0]
        )
        results = await asyncio.gather(*(group.submit(c) for c in commands), return_exceptions=True)
        for (_, value), result in zip(commands, results, strict=True):
            if value < 0:
                assert isinstance(result, ValueError)
                assert str(result) == f"refused {value}"
            else:
                assert result == value * 10
        # every command ran exactly once, in some batch
        ran = sorted(c for b in rec.batches for c in b)
        assert ran == sorted(commands)
        for batch in rec.batches:
            assert 1 <= len(batch) <= max_batch
            keys = [k for k, _ in batch]
            assert len(keys) == len(set(keys))  # conflicting commands never share a batch
        # submission order is kept per key: the later of two conflicting commands runs later
        order = [c for b in rec.batches for c in b]
        for key in {k for k, _ in commands}:
            assert [c for c in order if c[0] == key] == [c for c in commands if c[0] == key]

    asyncio.run(main())


async def test_commands_submitted_during_a_run_go_to_the_next_batch() -> None:
    rec = Recorder()
    rec.gate.clear()
    group: GroupCommit[tuple[int, int], int] = GroupCommit(rec.run)
    first = asyncio.ensure_future(group.submit((1, 1)))
    await asyncio.sleep(0.01)  # the first batch is running, held by the gate
    later = [asyncio.ensure_future(group.submit((k, k))) for k in (2, 3, 4)]
    await asyncio.sleep(0.01)
    assert rec.batches == [[(1, 1)]]  # one batch in flight; nothing joined it late
    assert not first.done()  # not answered before its run returned
    rec.gate.set()
    assert await first == 10
    assert await asyncio.gather(*later) == [20, 30, 40]
    assert rec.batches == [[(1, 1)], [(2, 2), (3, 3), (4, 4)]]


async def test_a_failing_run_fails_its_batch_only() -> None:
    calls = 0

    async def run(batch: Sequence[int]) -> list[int | Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("store down")
        return list(batch)

    group: GroupCommit[int, int] = GroupCommit(run)
    with pytest.raises(RuntimeError, match="store down"):
        await group.submit(1)
    assert await group.submit(2) == 2


async def test_a_run_answering_the_wrong_number_fails_every_caller() -> None:
    async def run(batch: Sequence[int]) -> list[int | Exception]:
        return [1]

    group: GroupCommit[int, int] = GroupCommit(run)
    results = await asyncio.gather(group.submit(1), group.submit(2), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_a_caller_that_gave_up_before_its_batch_is_dropped() -> None:
    rec = Recorder()
    rec.gate.clear()
    group: GroupCommit[tuple[int, int], int] = GroupCommit(rec.run)
    running = asyncio.ensure_future(group.submit((1, 1)))
    await asyncio.sleep(0.01)
    gone = asyncio.ensure_future(group.submit((2, 2)))
    stays = asyncio.ensure_future(group.submit((3, 3)))
    await asyncio.sleep(0.01)
    gone.cancel()
    rec.gate.set()
    assert await running == 10
    assert await stays == 30
    assert rec.committed == [1, 3]  # the cancelled command was never decided


async def test_after_runs_once_callers_have_their_answers_and_never_delays_them() -> None:
    seen: list[tuple[list[int], list[object]]] = []
    release = asyncio.Event()

    async def run(batch: Sequence[int]) -> list[int | Exception]:
        return [b + 1 for b in batch]

    async def after(batch: Sequence[int], answers: Sequence[int | Exception]) -> None:
        seen.append((list(batch), list(answers)))
        await release.wait()  # a slow push: the callers already have their answers

    group: GroupCommit[int, int] = GroupCommit(run, after=after)
    got = await asyncio.wait_for(asyncio.gather(group.submit(1), group.submit(2)), 1)
    assert got == [2, 3]
    assert seen == [([1, 2], [2, 3])]
    release.set()
    assert await asyncio.wait_for(group.submit(5), 1) == 6


async def test_a_failing_after_hook_never_stalls_the_next_batch() -> None:
    async def run(batch: Sequence[int]) -> list[int | Exception]:
        return list(batch)

    async def after(batch: Sequence[int], answers: Sequence[int | Exception]) -> None:
        raise RuntimeError("push failed")

    group: GroupCommit[int, int] = GroupCommit(run, after=after)
    assert await asyncio.wait_for(group.submit(1), 1) == 1
    assert await asyncio.wait_for(asyncio.gather(group.submit(2), group.submit(3)), 1) == [2, 3]


def test_max_batch_must_be_positive() -> None:
    async def run(batch: Sequence[int]) -> list[int | Exception]:
        return list(batch)

    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(run, max_batch=0)


async def test_after_a_busy_batch_the_answered_callers_join_the_next_one() -> None:
    """Linger: callers answered by a batch of at least ``busy`` commands come back a moment
    later; the next batch waits ``linger`` for them instead of running with whoever was
    queued first. Without the wait, the returning callers are split over two batches."""

    async def closed_loop(linger: float) -> list[int]:
        sizes: list[int] = []

        async def run(batch: Sequence[int]) -> list[int | Exception]:
            sizes.append(len(batch))
            await asyncio.sleep(0.005)  # the transaction
            return list(batch)

        group: GroupCommit[int, int] = GroupCommit(run, linger=linger, busy=4)

        async def client(n: int) -> None:
            for _ in range(2):  # a command, then the next one after a think time of its own
                await group.submit(n)
                await asyncio.sleep(0.001 * (n % 4))

        await asyncio.gather(*(client(n) for n in range(8)))
        return sizes

    assert await closed_loop(0.2) == [8, 8]  # the second round waited for all eight
    split = await closed_loop(0)
    assert split[0] == 8
    assert len(split) > 2  # without it, the returning callers went in several batches


async def test_a_quiet_queue_never_waits() -> None:
    """Batches smaller than ``busy`` are followed by no wait: a lone command is answered at
    once however long the linger."""

    async def run(batch: Sequence[int]) -> list[int | Exception]:
        return list(batch)

    group: GroupCommit[int, int] = GroupCommit(run, linger=10.0, busy=2)
    for n in range(5):
        assert await asyncio.wait_for(group.submit(n), 1) == n


def test_linger_and_busy_must_be_sensible() -> None:
    async def run(batch: Sequence[int]) -> list[int | Exception]:
        return list(batch)

    with pytest.raises(ValueError, match="linger"):
        GroupCommit(run, linger=-1)
    with pytest.raises(ValueError, match="busy"):
        GroupCommit(run, busy=0)
