"""Every route of the website, by audience."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"


def setup_routes(app: web.Application) -> None:
    from bot.web import api, auth, manager, nlu, staff, widget

    widget.setup(app)  # /, /widget/*
    auth.setup(app)  # /staff/login, /staff/logout
    staff.setup(app)  # /staff/*
    nlu.setup(app)  # /staff/nlu, marking a transcript's messages
    manager.setup(app)  # /manager
    api.setup(app)  # /api/*
    app.router.add_static("/static", STATIC_DIR, name="static", append_version=True)
