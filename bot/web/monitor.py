"""The monitoring check on a schedule, for as long as the website runs.

A cleanup context starts one background task with the app: it waits a little (at most
`START_DELAY_SECONDS`, so a starting server is not slowed), then runs the check every
`Settings.monitor_interval_seconds` (SUPPORTBOT_MONITOR_INTERVAL; 0 turns it off). Each check
runs in a worker thread (`asyncio.to_thread`: SQLAlchemy and scipy are synchronous), one at a
time: the next waits for the last to finish, so slow checks never pile up. A failed check is
logged and the next one runs on time. On shutdown the task is cancelled; a check under way
in its thread is waited for (at most `STOP_WAIT_SECONDS`) before the database is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.bootstrap import Services
from bot.monitoring.service import CheckResult, check_services
from bot.web.keys import monitor_task_key, services_key, settings_key

logger = logging.getLogger(__name__)

START_DELAY_SECONDS = 30.0
STOP_WAIT_SECONDS = 30.0


def _log(result: CheckResult) -> None:
    for alert in result.raised:
        logger.warning("Monitoring alert raised: %s", alert.message)
    for alert in result.resolved:
        logger.info("Monitoring alert resolved: %s", alert.message)
    logger.info(
        "Monitoring check: %d raised, %d still open, %d resolved",
        len(result.raised),
        len(result.still_open),
        len(result.resolved),
    )


async def run_checks(services: Services, interval: float, first_delay: float) -> None:
    """Check now and then, until cancelled."""
    await asyncio.sleep(first_delay)
    while True:
        check = asyncio.ensure_future(asyncio.to_thread(check_services, services))
        try:
            _log(await asyncio.shield(check))
        except asyncio.CancelledError:
            # Shutting down: the thread cannot be stopped, so let it finish with the database.
            await asyncio.wait({check}, timeout=STOP_WAIT_SECONDS)
            raise
        except Exception:  # noqa: BLE001 - a failed check must not end the schedule
            logger.exception("The monitoring check failed")
        await asyncio.sleep(interval)


async def scheduled_checks(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the monitoring task, started with the app and cancelled after it."""
    interval = app[settings_key].monitor_interval_seconds
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(
        run_checks(app[services_key], interval, min(interval, START_DELAY_SECONDS)),
        name="supportbot-monitoring",
    )
    app[monitor_task_key] = task
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(scheduled_checks)
