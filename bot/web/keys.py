"""Typed application state: every handler reads what it needs through these keys."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy.engine import Engine

from bot.auth.throttle import LoginThrottle
from bot.bootstrap import Services
from bot.settings import Settings

settings_key = web.AppKey("settings", Settings)
# The app database's services (engine, session factory, signing key, clock).
services_key = web.AppKey("services", Services)
# Rasa's tracker store, read for transcripts and erased on request.
tracker_engine_key = web.AppKey("tracker_engine", Engine)
# Staff sign-in attempts per client address and per account, in this process's memory.
login_throttle_key = web.AppKey("login_throttle", LoginThrottle)
# The monitoring checks run on a schedule (`bot.web.monitor`); absent when they are off.
monitor_task_key = web.AppKey("monitor_task", asyncio.Task)
