"""Start a coroutine in the caller's turn of the loop; finish it later only if it suspends.

Why: 3,000 acknowledgements leave in one sweep after a group commit. Each is an ASGI
``send`` that completes without suspending unless the transport pushes back; wrapping each
in a task would wake 3,000 tasks for work that is already done. Python 3.12 has eager task
factories for this; on 3.11 it is these few lines, the only place in Hemicycle that touches
asyncio's private protocol (a future's ``_asyncio_future_blocking`` flag, which a Task
clears before waiting on what a coroutine yielded). tests/test_eager.py pins the behaviour.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any


@dataclass
class Suspended:
    """A coroutine that yielded before finishing, and what it is waiting for."""

    coro: Coroutine[Any, Any, None]
    waiting: Any  # a future, or None for a bare yield

    def close(self) -> None:
        self.coro.close()


def start(coro: Coroutine[Any, Any, None]) -> Suspended | None:
    """Run ``coro`` until it finishes (None) or suspends (what to ``finish`` later).

    An exception it raises propagates, as it would from ``await``.
    """
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None
    return Suspended(coro, waiting)


async def finish(suspended: Suspended) -> None:
    """Drive a suspended coroutine to its end, as a Task would: wait for what it yielded,
    resume it, and again, until it returns. Cancelling this closes the coroutine."""
    coro, waiting = suspended.coro, suspended.waiting
    while True:
        if waiting is None:
            await asyncio.sleep(0)
        else:
            waiting._asyncio_future_blocking = False
            try:
                await asyncio.wait([waiting])
            except BaseException:
                coro.close()
                raise
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
