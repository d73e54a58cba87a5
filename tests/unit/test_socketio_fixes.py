"""The socket.io channel fixes: the browser joins its conversation's room; custom JSON arrives."""

from unittest.mock import AsyncMock

import pytest
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput

from bot.rasa.socketio_fixes import install_socketio_fixes


@pytest.fixture
def fixed(monkeypatch):
    """The fixes installed for one test; Rasa's originals restored afterwards."""
    monkeypatch.setattr(SocketIOInput, "blueprint", SocketIOInput.blueprint)
    monkeypatch.setattr(SocketIOOutput, "send_custom_json", SocketIOOutput.send_custom_json)
    install_socketio_fixes()
    install_socketio_fixes()  # idempotent


async def never_called(message):  # pragma: no cover
    raise AssertionError("no message expected")


async def session_request(channel: SocketIOInput, data):
    channel.blueprint(never_called)
    sio = channel.sio
    sio.enter_room = AsyncMock()
    sio.emit = AsyncMock()
    handler = sio.handlers["/"]["session_request"]
    await handler("socket-1", data)
    return sio


async def test_a_persistent_session_joins_its_room_and_is_confirmed(fixed):
    sio = await session_request(SocketIOInput(session_persistence=True), {"session_id": "abc"})
    sio.enter_room.assert_awaited_once_with("socket-1", "abc", namespace=None)
    sio.emit.assert_awaited_once_with("session_confirm", "abc", room="socket-1", namespace=None)


async def test_a_new_session_gets_an_id_and_no_room_without_persistence(fixed):
    sio = await session_request(SocketIOInput(session_persistence=True), None)
    (event, session_id), _ = sio.emit.await_args
    assert event == "session_confirm" and len(session_id) == 32
    sio.enter_room.assert_awaited_once_with("socket-1", session_id, namespace=None)

    sio = await session_request(SocketIOInput(session_persistence=False), {"session_id": "x"})
    sio.enter_room.assert_not_awaited()


async def test_custom_json_is_emitted_as_the_message(fixed):
    sio = AsyncMock()
    output = SocketIOOutput(sio, "bot_uttered")
    cards = {"type": "product_cards", "products": [{"name": "Tent", "price": "99.00"}]}
    await output.send_custom_json("conversation-1", dict(cards))
    sio.emit.assert_awaited_once_with("bot_uttered", cards, room="conversation-1")


async def test_custom_json_in_rasas_own_shape_is_sent_as_before(fixed):
    sio = AsyncMock()
    output = SocketIOOutput(sio, "bot_uttered")
    await output.send_custom_json("conversation-1", {"data": {"x": 1}})
    sio.emit.assert_awaited_once_with("bot_uttered", data={"x": 1}, room="conversation-1")
