"""server/edge/eager.py: a send that completes at once never needs a task; one that suspends
is finished later, in order, as a Task would finish it."""

from __future__ import annotations

import asyncio

import pytest

from server.edge import eager


async def test_a_coroutine_that_does_not_suspend_finishes_in_the_callers_turn() -> None:
    done: list[str] = []

    async def send(text: str) -> None:
        done.append(text)

    assert eager.start(send("ack")) is None
    assert done == ["ack"]  # no await happened: the work was done synchronously


async def test_a_suspended_coroutine_is_finished_with_the_outcome_of_what_it_waited_for() -> None:
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    got: list[str] = []

    async def send() -> None:
        got.append(await gate)  # the transport pushes back: wait for it to drain
        await asyncio.sleep(0)  # a bare yield too
        got.append("after")

    stalled = eager.start(send())
    assert stalled is not None and got == []
    finishing = asyncio.ensure_future(eager.finish(stalled))
    await asyncio.sleep(0)
    assert not finishing.done()
    gate.set_result("drained")
    await asyncio.wait_for(finishing, 5)
    assert got == ["drained", "after"]


async def test_an_error_from_the_start_propagates_and_one_while_waiting_reaches_the_finisher() -> None:
    async def broken() -> None:
        raise OSError("socket gone")

    with pytest.raises(OSError):
        eager.start(broken())

    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def fails_later() -> None:
        await gate

    stalled = eager.start(fails_later())
    assert stalled is not None
    gate.set_exception(ConnectionResetError("peer closed"))
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(eager.finish(stalled), 5)


async def test_cancelling_the_finisher_closes_the_coroutine() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    closed: list[bool] = []

    async def send() -> None:
        try:
            await gate
        except GeneratorExit:
            closed.append(True)
            raise

    stalled = eager.start(send())
    assert stalled is not None
    finishing = asyncio.ensure_future(eager.finish(stalled))
    await asyncio.sleep(0)
    finishing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await finishing
    assert closed == [True]
