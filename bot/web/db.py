"""Database work from aiohttp handlers: run off the event loop, one unit of work each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web
from sqlalchemy.orm import Session

from bot.storage.session import session_scope
from bot.web.keys import services_key

T = TypeVar("T")


async def in_session(request: web.Request, work: Callable[[Session], T]) -> T:
    """`work(session)` in a worker thread, inside a `session_scope` (commit or roll back).

    SQLAlchemy here is synchronous; a query on the loop would stall every other request.
    """
    factory = request.app[services_key].session_factory

    def run() -> T:
        with session_scope(factory) as session:
            return work(session)

    return await asyncio.to_thread(run)
