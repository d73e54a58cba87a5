"""Rasa's REST and socket.io channels, with the server deciding what a message carries.

Named in credentials.yml by module path; they keep Rasa's channel names (`rest`,
`socketio`), so the routes stay /webhooks/rest/webhook and /socket.io. For every message
(`bot.rasa.messages.MessageGuard`): the text is cut to `max_message_length` characters,
and the metadata is replaced by the sealed identity its token proved, the client's address
and, for a cut text, its original length. REST refuses a message without a usable
`sender`; socket.io refuses connections from web origins other than the website's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa.messages import MAX_SENDER_LENGTH, MessageGuard, bounded_text, valid_sender
from bot.settings import Settings


class BadMessage(Exception):
    """A REST message that cannot be answered; the message says why."""


class RestChannel(RestInput):
    """`POST /webhooks/rest/webhook` `{"sender", "message", "metadata": {"token"}}`."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(Settings.from_env())

    def __init__(self, settings: Settings | None = None) -> None:
        self.guard = MessageGuard.from_settings(settings or Settings.from_env())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.exception(BadMessage)
        async def bad_message(_: Request, error: BadMessage) -> HTTPResponse:
            return response.json({"error": str(error)}, status=400)

        return webhook

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        body = request.json
        if not isinstance(body, dict):
            raise BadMessage("the body must be a JSON object")
        return body

    async def _extract_sender(self, req: Request) -> str:
        sender = self._body(req).get("sender")
        if not valid_sender(sender):
            raise BadMessage(
                f'"sender" must be a conversation id of 1 to {MAX_SENDER_LENGTH} characters'
            )
        return str(sender)

    def _extract_message(self, req: Request) -> str:
        return bounded_text(self._body(req).get("message"), self.guard.max_length)[0]

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()  # not the client's say: the metrics count chats by channel

    def get_metadata(self, request: Request) -> dict[str, Any]:
        body = self._body(request)
        _, cut_from = bounded_text(body.get("message"), self.guard.max_length)
        client = self.guard.client(request.ip, request.headers.get("x-forwarded-for"))
        return self.guard.metadata(str(body.get("sender")), body.get("metadata"), client, cut_from)


class SocketIOChannel(SocketIOInput):
    """Rasa's socket.io channel (the website's widget). Its blueprint is Rasa's, so the fixes
    `bot.rasa.socketio_fixes` installs on `SocketIOInput.blueprint` apply to it too."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        channel = super().from_credentials(credentials)
        assert isinstance(channel, SocketIOChannel)
        return channel

    def __init__(self, *args: Any, settings: Settings | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = settings or Settings.from_env()
        self.guard = MessageGuard.from_settings(settings)
        self.allowed_origins = frozenset(settings.allowed_origins)

    def origin_allowed(self, origin: str | None) -> bool:
        """A browser's page may connect only from the website's origins; a client that is not
        a browser sends no Origin (and could send any)."""
        return not origin or origin in self.allowed_origins

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        handlers = sio.handlers[self.namespace or "/"]
        rasa_connect, rasa_message = handlers["connect"], handlers[self.user_message_evt]

        # Rasa's server has `cors_allowed_origins=[]`: engine.io then checks no origin at all,
        # and browsers apply no CORS to WebSockets. Its CORS headers come from Rasa's `--cors`.
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            if not self.origin_allowed(environ.get("HTTP_ORIGIN")):
                return False
            return bool(await rasa_connect(sid, environ, auth))

        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            sender = data.get("session_id") if self.session_persistence else sid
            if not valid_sender(sender):  # Rasa would take any value as the conversation id
                return
            environ = sio.get_environ(sid, namespace=self.namespace) or {}
            request = environ.get("sanic.request")
            peer = request.ip if request is not None else ""
            client = self.guard.client(peer, environ.get("HTTP_X_FORWARDED_FOR"))
            text, metadata = self.guard.message(
                str(sender), data.get("message"), data.get(self.metadata_key), client
            )
            await rasa_message(sid, {**data, "message": text, self.metadata_key: metadata})

        sio.on("connect", connect, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return webhook
