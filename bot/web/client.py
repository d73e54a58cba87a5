"""Who is on the other end of a request: the client's address, for rate limits and logs."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from bot.settings import Settings

UNKNOWN = "unknown"


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(request: web.Request, settings: Settings) -> str:
    """The client's IP address: the peer's, or behind a trusted proxy its X-Forwarded-For.

    Only with `settings.trust_forwarded_for` (a reverse proxy you run, which appends the
    address it saw): then the last entry is the one that proxy wrote. The entries before it
    come from the client and prove nothing. A malformed last entry falls back to the peer.
    """
    if settings.trust_forwarded_for:
        forwarded = request.headers.getall("X-Forwarded-For", [])
        entries = ",".join(forwarded).split(",")
        if entries and (last := _address(entries[-1])) is not None:
            return last
    return request.remote or UNKNOWN
