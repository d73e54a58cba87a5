"""Two fixes to Rasa 3.6's socket.io channel, installed by `bot.rasa.launcher`.

1. Session persistence. With `session_persistence: true` Rasa puts the browser's socket into
   a room named after the conversation (`session_id`) and sends every bot message to that
   room. Rasa 3.6 calls `sio.enter_room(...)` without `await`, but python-socketio 5.x's
   `AsyncServer.enter_room` is a coroutine: the socket never joins the room and the browser
   never receives a reply ("coroutine 'AsyncServer.enter_room' was never awaited").
2. Custom JSON messages. Rasa 3.6 sends `json_message` as keyword arguments of `sio.emit`, so
   `{"type": "product_cards", "products": [...]}` fails with a TypeError (and takes the rest
   of the turn's messages with it). Here a custom message is emitted as the event's data, as
   the REST channel returns it; a message made only of `emit` arguments (`{"data": ...}`,
   Rasa's own convention) is sent as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

# The keyword arguments of `AsyncServer.emit` besides the event name.
EMIT_ARGUMENTS = frozenset(
    {"data", "to", "room", "skip_sid", "namespace", "callback", "ignore_queue"}
)


def install_socketio_fixes() -> None:
    """Patch `SocketIOInput.blueprint` and `SocketIOOutput.send_custom_json` (idempotent)."""
    from rasa.core.channels.channel import UserMessage
    from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
    from sanic import Blueprint

    if getattr(SocketIOInput.blueprint, "_supportbot_fixed", False):
        return
    original_blueprint = SocketIOInput.blueprint
    original_send_custom_json = SocketIOOutput.send_custom_json

    def blueprint(
        self: SocketIOInput, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = original_blueprint(self, on_new_message)
        sio = self.sio
        assert sio is not None
        namespace = self.namespace

        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = data if isinstance(data, dict) else {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, data["session_id"], namespace=namespace)
            await sio.emit("session_confirm", data["session_id"], room=sid, namespace=namespace)

        sio.on("session_request", session_request, namespace=namespace)  # replaces Rasa's
        return webhook

    async def send_custom_json(
        self: SocketIOOutput, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        if json_message and set(json_message) <= EMIT_ARGUMENTS:
            await original_send_custom_json(self, recipient_id, json_message, **kwargs)
            return
        await self.sio.emit(self.bot_message_evt, json_message, room=recipient_id)

    blueprint._supportbot_fixed = True  # type: ignore[attr-defined]
    SocketIOInput.blueprint = blueprint  # type: ignore[method-assign]
    SocketIOOutput.send_custom_json = send_custom_json  # type: ignore[method-assign]
