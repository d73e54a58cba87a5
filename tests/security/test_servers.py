"""Attacks on the running servers fail, and the owner's way in still works.

Against the real Rasa server, action server and website (`running_bot`, shared with
tests/integration), over HTTP and socket.io on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
import websockets

from bot.auth.keys import signing_key
from bot.auth.tokens import IDENTITY_KEY, mint, unseal
from tests.servers import MODEL, NO_TOKEN, RunningBot, http

pytestmark = pytest.mark.integration

EVIL = "http://evil.example"
WEBHOOK = "/webhooks/rest/webhook"


def sender() -> str:
    return f"sec-{uuid.uuid4().hex[:10]}"


def origin_headers(url: str, method: str = "GET", **headers: str) -> list[str]:
    """The Access-Control-Allow-Origin headers (all of them) of one request."""
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.headers.get_all("Access-Control-Allow-Origin") or []
    except urllib.error.HTTPError as error:
        return error.headers.get_all("Access-Control-Allow-Origin") or []


def user_events(tracker: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in tracker["events"] if e["event"] == "user"]


def channel_metadata(event: dict[str, Any]) -> dict[str, Any]:
    """A user event's metadata without what Rasa itself adds (the model's ids)."""
    return {k: v for k, v in event["metadata"].items() if k not in ("model_id", "assistant_id")}


# --- Rasa's HTTP API ------------------------------------------------------------------------


def test_the_api_answers_only_with_the_token(running_bot: RunningBot):
    me = sender()
    running_bot.say(me, "hello")
    wrong = "not-the-token"
    for token in (NO_TOKEN, wrong):
        assert running_bot.api("/status", token=token)[0] == 401
        assert running_bot.api(f"/conversations/{me}/tracker", token=token)[0] == 401
        assert running_bot.api(f"/conversations/{me}/story", token=token)[0] == 401
        event = {"event": "bot", "text": "injected"}
        assert (
            running_bot.api(f"/conversations/{me}/tracker/events", "POST", event, token)[0] == 401
        )
        assert (
            running_bot.api(f"/conversations/{me}/execute", "POST", {"name": "utter_greet"}, token)[
                0
            ]
            == 401
        )
        assert running_bot.api("/model", "PUT", {"model_file": str(MODEL)}, token)[0] == 401
        assert running_bot.api("/model/parse", "POST", {"text": "hi"}, token)[0] == 401
    status, tracker = running_bot.api(f"/conversations/{me}/tracker")
    assert status == 200 and all(e.get("text") != "injected" for e in tracker["events"])

    assert running_bot.api("/status")[0] == 200
    assert running_bot.api(f"/conversations/{me}/tracker")[1]["sender_id"] == me
    status, _ = running_bot.api(
        f"/conversations/{me}/tracker/events", "POST", {"event": "bot", "text": "from the owner"}
    )
    assert status == 200
    status, executed = running_bot.api(
        f"/conversations/{me}/execute", "POST", {"name": "utter_greet"}
    )
    assert status == 200 and executed["messages"]
    texts = [e.get("text") for e in running_bot.api(f"/conversations/{me}/tracker")[1]["events"]]
    assert "from the owner" in texts
    # Past the token check: Rasa itself answers (here that no such model file exists),
    # rather than reloading the session's model for every test after this one.
    status, body = running_bot.api("/model", "PUT", {"model_file": "/nonexistent/model.tar.gz"})
    assert status == 400 and body["reason"] == "BadRequest"


# --- CORS -----------------------------------------------------------------------------------


def test_browsers_may_call_the_rasa_server_only_from_the_website(running_bot: RunningBot):
    website = running_bot.web_url  # http://127.0.0.1:<web port>, the page the widget is on
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    for path in (WEBHOOK, "/status", "/socket.io/?EIO=4&transport=polling"):
        url = f"{running_bot.rasa_url}{path}"
        assert origin_headers(url, "OPTIONS", Origin=EVIL, **preflight) == []
        assert origin_headers(url, "OPTIONS", Origin=website, **preflight) == [website]
    # the answers themselves; socket.io's handshake has the header once, not twice
    handshake = f"{running_bot.rasa_url}/socket.io/?EIO=4&transport=polling"
    assert origin_headers(handshake, Origin=website) == [website]
    assert (
        origin_headers(f"{running_bot.rasa_url}/status?token={running_bot.api_token}", Origin=EVIL)
        == []
    )


async def socketio_reply(bot: RunningBot, origin: str) -> str:
    """The bot's first reply over socket.io (polling, as the widget starts) from a page at
    `origin`; raises socketio's ConnectionError when the connection is refused."""
    async with aiohttp.ClientSession() as http_session:
        client = socketio.AsyncClient(reconnection=False, http_session=http_session)
        replies: asyncio.Queue[Any] = asyncio.Queue()
        client.on("session_confirm", lambda data: replies.put_nowait(("confirmed", data)))
        client.on("bot_uttered", replies.put_nowait)
        try:
            await client.connect(
                bot.rasa_url, headers={"Origin": origin}, transports=["polling"], wait_timeout=10
            )
            session_id = uuid.uuid4().hex
            await client.emit("session_request", {"session_id": session_id})
            assert await asyncio.wait_for(replies.get(), 15) == ("confirmed", session_id)
            message = {"message": "hello", "session_id": session_id, "metadata": {}}
            await client.emit("user_uttered", message)
            reply = await asyncio.wait_for(replies.get(), 30)
            return str(reply.get("text", ""))
        finally:
            await client.disconnect()


async def engineio_websocket_connect(bot: RunningBot, origin: str) -> str:
    """The server's answer to a socket.io CONNECT over a WebSocket from a page at `origin`
    (browsers apply no CORS to WebSockets: only the server's own origin check stops them)."""
    url = f"{bot.rasa_url.replace('http', 'ws', 1)}/socket.io/?EIO=4&transport=websocket"
    try:
        async with websockets.connect(url, origin=origin, open_timeout=10) as ws:  # type: ignore[arg-type]
            opened = await asyncio.wait_for(ws.recv(), 10)
            assert str(opened).startswith("0")  # engine.io OPEN
            await ws.send("40")  # socket.io CONNECT to the default namespace
            return str(await asyncio.wait_for(ws.recv(), 10))
    except websockets.exceptions.InvalidStatusCode as error:
        return f"HTTP {error.status_code}"


async def test_socketio_refuses_pages_from_other_origins(running_bot: RunningBot):
    with pytest.raises(socketio.exceptions.ConnectionError):
        await socketio_reply(running_bot, EVIL)
    answer = await engineio_websocket_connect(running_bot, EVIL)
    assert not answer.startswith("40"), answer  # a CONNECT_ERROR (44) or no handshake at all

    assert await socketio_reply(running_bot, running_bot.web_url)
    assert (await engineio_websocket_connect(running_bot, running_bot.web_url)).startswith("40{")


# --- the action server ----------------------------------------------------------------------


def test_the_action_server_answers_only_the_rasa_server(running_bot: RunningBot):
    call = {
        "next_action": "action_shipping_info",
        "sender_id": "x",
        "tracker": {"sender_id": "x", "events": [], "slots": {}, "latest_message": {}},
        "domain": {},
        "version": "3.6.21",
    }
    url = running_bot.action_url
    for headers in ({}, {"X-Supportbot-Action-Secret": "wrong"}):
        assert http(f"{url}/webhook", "POST", call, headers)[0] == 401
        assert http(f"{url}/actions", headers=headers)[0] == 401
    assert http(f"{url}/health")[0] == 200
    status, actions, _ = http(f"{url}/actions", headers=running_bot.action_secret_header)
    assert status == 200 and {"name": "action_shipping_info"} in actions
    # and the Rasa server, which sends the secret, still runs the custom actions
    assert "ship" in running_bot.texts(sender(), "how long does shipping take?").lower()


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on `port` (all processes), from /proc."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port and len(address) == width:
                raw = bytes.fromhex(address)
                # /proc writes each 32-bit word in host (little-endian) order
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                family = socket.AF_INET if width == 8 else socket.AF_INET6
                found.add(socket.inet_ntop(family, words))
    return found


def other_addresses() -> set[str]:
    """This machine's IPv4 addresses other than loopback (as far as it can tell)."""
    found = set()
    with contextlib.suppress(OSError):
        found.update(socket.gethostbyname_ex(socket.gethostname())[2])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, contextlib.suppress(OSError):
        probe.connect(("203.0.113.1", 9))  # no packet is sent: only the route is looked up
        found.add(probe.getsockname()[0])
    return {a for a in found if not a.startswith("127.") and a != "0.0.0.0"}


def test_the_action_server_listens_on_loopback_only(running_bot: RunningBot):
    port = int(running_bot.env["ACTION_PORT"])
    assert listening_addresses(port) == {"127.0.0.1"}
    others = other_addresses()
    if not others:
        pytest.skip("this machine has no address besides loopback to try the action server on")
    for address in others:
        with socket.socket() as probe:
            probe.settimeout(3)
            assert probe.connect_ex((address, port)) != 0, f"the action server answers on {address}"


# --- what a message carries into the conversation store ------------------------------------


def test_a_token_in_the_metadata_is_sealed_and_never_stored(running_bot: RunningBot):
    me, stranger = sender(), sender()
    token = mint(signing_key(running_bot.settings), "manager", name="Maria")
    forged = {"role": "manager", "customer_id": None, "name": "Eve", "mac": "0" * 64}
    running_bot.say(me, "hello", {"token": token, "client": "6.6.6.6", "x": 1})
    running_bot.say(stranger, "hello", {IDENTITY_KEY: forged, "client": "6.6.6.6"})

    (signed,) = user_events(running_bot.api(f"/conversations/{me}/tracker")[1])
    metadata = channel_metadata(signed)
    assert set(metadata) == {IDENTITY_KEY, "client"} and metadata["client"] == "127.0.0.1"
    assert unseal(signing_key(running_bot.settings), me, metadata[IDENTITY_KEY]).role == "manager"
    (anonymous,) = user_events(running_bot.api(f"/conversations/{stranger}/tracker")[1])
    assert channel_metadata(anonymous) == {"client": "127.0.0.1"}

    with sqlite3.connect(running_bot.var_dir / "tracker.db") as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id IN (?, ?)", (me, stranger)
        ).fetchall()
        leaked = db.execute(
            "SELECT count(*) FROM events WHERE instr(data, ?) > 0", (token,)
        ).fetchone()
    assert rows and leaked == (0,)
    assert not any("6.6.6.6" in data or "Eve" in data for (data,) in rows)


# --- message size and senders ---------------------------------------------------------------


async def test_a_megabyte_message_is_answered_and_does_not_hold_up_other_chats(
    running_bot: RunningBot,
):
    limit = running_bot.settings.max_message_length
    big, other = sender(), sender()
    text = ("where is my order " * 60_000)[:1_000_000]
    url = f"{running_bot.rasa_url}{WEBHOOK}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as client:

        async def say(who: str, message: str) -> tuple[float, int, Any]:
            started = time.perf_counter()
            async with client.post(url, json={"sender": who, "message": message}) as response:
                return time.perf_counter() - started, response.status, await response.json()

        await say(other, "hello")
        in_flight = asyncio.create_task(say(big, text))
        latencies = []
        while not in_flight.done() or not latencies:
            seconds, status, replies = await say(other, "how long does shipping take?")
            assert status == 200 and replies
            latencies.append(seconds)
        _, status, replies = await in_flight
    assert status == 200 and replies  # after the NLU's part: it says the message was too long
    assert max(latencies) < 1.0, latencies

    (stored,) = user_events(running_bot.api(f"/conversations/{big}/tracker")[1])
    assert len(stored["text"]) <= limit
    assert stored["metadata"]["cut_from"] == len(text)


@pytest.mark.parametrize(
    "payload",
    [
        {"message": "hello"},
        {"sender": None, "message": "hello"},
        {"sender": 42, "message": "hello"},
        {"sender": "", "message": "hello"},
        {"sender": "x" * 129, "message": "hello"},
        ["not", "an", "object"],
    ],
)
def test_a_rest_message_without_a_usable_sender_is_refused(running_bot: RunningBot, payload: Any):
    status, body, _ = http(f"{running_bot.rasa_url}{WEBHOOK}", "POST", payload)
    assert status == 400 and "error" in body, body
    # it did not land in Rasa's shared conversation of senderless messages either
    events = running_bot.api("/conversations/default/tracker")[1]["events"]
    assert not [e for e in events if e["event"] == "user"]


def test_the_secrets_are_in_no_log_and_the_endpoints_file_is_private(running_bot: RunningBot):
    logs = [running_bot.var_dir / "serve.log", *(running_bot.var_dir / "logs").glob("*.log")]
    for log in logs:
        text = log.read_text(errors="replace")
        for secret in (running_bot.api_token, *running_bot.action_secret_header.values()):
            assert secret not in text, log
    assert (running_bot.var_dir / "endpoints.yml").stat().st_mode & 0o077 == 0
