"""The channels' rules for every message: bounded text, metadata the server decides."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock

import pytest
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput

from bot.auth.tokens import IDENTITY_KEY, mint, unseal
from bot.rasa.channels import BadMessage, RestChannel, SocketIOChannel
from bot.rasa.messages import (
    CLIENT_KEY,
    CUT_FROM_KEY,
    MessageGuard,
    bounded_text,
    client_address,
    valid_sender,
)
from bot.rasa.socketio_fixes import install_socketio_fixes
from bot.settings import Settings

KEY = "k" * 64


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(var_dir=tmp_path, secret_key=KEY, max_message_length=10, web_port=8080)


def test_only_short_strings_are_senders():
    assert valid_sender("me") and valid_sender("x" * 128)
    assert not any(valid_sender(s) for s in (None, "", "x" * 129, 5, ["me"], {"id": 1}))


def test_text_is_cut_to_the_limit_and_remembers_its_length():
    assert bounded_text("hello", 10) == ("hello", None)
    assert bounded_text("x" * 10, 10) == ("x" * 10, None)
    assert bounded_text("abcdefghijkl", 10) == ("abcdefghij", 12)
    assert bounded_text(None, 10) == ("", None)
    assert bounded_text({"text": "hi"}, 10) == ("", None)


def test_forwarded_for_only_behind_a_trusted_proxy():
    assert client_address("10.0.0.1", "1.2.3.4", trust_forwarded_for=False) == "10.0.0.1"
    # the last hop is what the proxy saw; the first ones are whatever the client wrote
    assert client_address("10.0.0.1", "6.6.6.6, 1.2.3.4", trust_forwarded_for=True) == "1.2.3.4"
    assert client_address("10.0.0.1", " , ", trust_forwarded_for=True) == "10.0.0.1"
    assert client_address("10.0.0.1", None, trust_forwarded_for=True) == "10.0.0.1"


def test_the_token_becomes_a_sealed_identity_and_nothing_else_stays():
    guard = MessageGuard(KEY, max_length=10)
    token = mint(KEY, "manager", name="Maria")
    sent = {"token": token, IDENTITY_KEY: {"role": "manager"}, CLIENT_KEY: "1.2.3.4", "x": 1}
    text, metadata = guard.message("chat-1", "what's our NPS?", sent, "127.0.0.1")
    assert text == "what's our"
    assert set(metadata) == {IDENTITY_KEY, CLIENT_KEY, CUT_FROM_KEY}
    assert metadata[CLIENT_KEY] == "127.0.0.1" and metadata[CUT_FROM_KEY] == 15
    assert token not in repr(metadata)
    assert unseal(KEY, "chat-1", metadata[IDENTITY_KEY]).role == "manager"
    assert unseal(KEY, "chat-2", metadata[IDENTITY_KEY]).role == "customer"  # bound to chat-1


@pytest.mark.parametrize(
    "sent",
    [None, "a string", {}, {"token": "forged.token.x"}, {"token": 5}, {"identity": {"role": "staff"}}],
)
def test_without_a_valid_token_a_message_is_anonymous(sent: Any):
    guard = MessageGuard(KEY, max_length=10)
    chat_token = mint(KEY, "staff", audience="api")  # made for the website's API, not the chat
    for client_metadata in (sent, {"token": chat_token}):
        _, metadata = guard.message("chat-1", "hi", client_metadata, "::1")
        assert metadata == {CLIENT_KEY: "::1"}


# --- REST ---------------------------------------------------------------------------------


def rest_request(body: Any, ip: str = "10.1.2.3", **headers: str) -> Any:
    return SimpleNamespace(json=body, ip=ip, headers={k.replace("_", "-"): v for k, v in headers.items()})


async def test_rest_refuses_a_message_without_a_usable_sender(settings: Settings):
    channel = RestChannel(settings)
    for body in ({"message": "hi"}, {"sender": "", "message": "hi"}, {"sender": 7}, ["hi"], None):
        with pytest.raises(BadMessage):
            await channel._extract_sender(rest_request(body))
    assert await channel._extract_sender(rest_request({"sender": "me"})) == "me"


async def test_rest_message_gets_the_servers_metadata(settings: Settings):
    channel = RestChannel(settings)
    token = mint(KEY, "customer", customer_id=12)
    request = rest_request(
        {"sender": "me", "message": "y" * 25, "metadata": {"token": token}, "input_channel": "x"},
        x_forwarded_for="6.6.6.6",
    )
    assert channel._extract_message(request) == "y" * 10
    assert channel._extract_input_channel(request) == "rest"
    metadata = channel.get_metadata(request)
    assert metadata[CLIENT_KEY] == "10.1.2.3" and metadata[CUT_FROM_KEY] == 25
    assert unseal(KEY, "me", metadata[IDENTITY_KEY]).customer_id == 12

    trusting = RestChannel(Settings(var_dir=settings.var_dir, secret_key=KEY, trust_forwarded_for=True))
    assert trusting.get_metadata(request)[CLIENT_KEY] == "6.6.6.6"


# --- socket.io ------------------------------------------------------------------------------


@pytest.fixture
def fixed(monkeypatch):
    """bot.rasa.socketio_fixes's fixes installed for one test; Rasa's originals restored afterwards."""
    monkeypatch.setattr(SocketIOInput, "blueprint", SocketIOInput.blueprint)
    monkeypatch.setattr(SocketIOOutput, "send_custom_json", SocketIOOutput.send_custom_json)
    install_socketio_fixes()


def socketio_channel(settings: Settings, received: list) -> SocketIOChannel:
    async def on_new_message(message: Any) -> None:
        received.append(message)

    channel = SocketIOChannel(session_persistence=True, settings=settings)
    channel.blueprint(on_new_message)
    return channel


async def test_socketio_refuses_other_web_origins(settings: Settings, fixed: None):
    channel = socketio_channel(settings, [])
    connect = channel.sio.handlers["/"]["connect"]
    assert await connect("s1", {"HTTP_ORIGIN": "http://localhost:8080"}, None) is True
    assert await connect("s1", {"HTTP_ORIGIN": "http://127.0.0.1:8080"}, None) is True
    assert await connect("s1", {}, None) is True  # not a browser
    assert await connect("s1", {"HTTP_ORIGIN": "http://evil.example"}, None) is False
    assert await connect("s1", {"HTTP_ORIGIN": "http://localhost:8081"}, None) is False


async def test_socketio_message_gets_the_servers_metadata(settings: Settings, fixed: None):
    received: list = []
    channel = socketio_channel(settings, received)
    sio = channel.sio
    request = SimpleNamespace(ip="10.9.8.7")
    sio.get_environ = lambda sid, namespace=None: {"sanic.request": request}
    handle = sio.handlers["/"]["user_uttered"]
    token = mint(KEY, "customer", customer_id=3)
    await handle("s1", {"message": "z" * 30, "session_id": "chat-9", "metadata": {"token": token, "client": "x"}})
    (message,) = received
    assert (message.text, message.sender_id, message.input_channel) == ("z" * 10, "chat-9", "socketio")
    assert message.metadata[CLIENT_KEY] == "10.9.8.7" and message.metadata[CUT_FROM_KEY] == 30
    assert unseal(KEY, "chat-9", message.metadata[IDENTITY_KEY]).customer_id == 3
    assert token not in repr(message.metadata)

    for unusable in ("not a dict", {"message": "hi"}, {"message": "hi", "session_id": "s" * 129}):
        await handle("s1", unusable)
    assert len(received) == 1


async def test_socketio_fixes_still_apply_to_the_channel(settings: Settings, fixed: None):
    channel = socketio_channel(settings, [])
    sio = channel.sio
    sio.enter_room, sio.emit = AsyncMock(), AsyncMock()
    await sio.handlers["/"]["session_request"]("s1", {"session_id": "chat-9"})
    sio.enter_room.assert_awaited_once_with("s1", "chat-9", namespace=None)
