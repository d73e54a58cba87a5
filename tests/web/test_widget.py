"""The shop page, the chat widget's configuration and the demo login."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bot.auth.tokens import Identity, verify
from bot.bootstrap import Services
from bot.demo.seed import META_KEY
from bot.settings import Settings
from bot.storage.models import Customer, Meta, Product
from bot.storage.session import session_scope
from bot.web.app import create_app
from bot.web.widget import content_security_policy, socket_origins

STATIC = Path(__file__).resolve().parents[2] / "bot" / "web" / "static"
TRICKY_NAME = 'Mug "Best <b>Boss</b>" & Co'


@pytest.fixture
def catalog(web_services: Services) -> dict[str, list[int]]:
    """Three products (one out of stock) and twelve customers."""
    with session_scope(web_services.session_factory) as session:
        products = [
            Product(
                sku="TENT-2",
                name="Trail Tent 2P",
                category="Outdoor",
                price=Decimal("149.00"),
                stock=4,
            ),
            Product(
                sku="MUG-1", name=TRICKY_NAME, category="Kitchen", price=Decimal("9.50"), stock=10
            ),
            Product(
                sku="GONE-1", name="Sold Out Lamp", category="Home", price=Decimal("30.00"), stock=0
            ),
        ]
        customers = [
            Customer(
                email=f"c{i}@example.org",
                name=f"Customer {i:02d}",
                city="Graz",
                created_at=datetime(2026, 1, 1),
            )
            for i in range(12)
        ]
        session.add_all(products + customers)
        session.flush()
        return {"products": [p.id for p in products], "customers": [c.id for c in customers]}


@pytest.fixture
def app_with(settings: Settings, web_services: Services, aiohttp_client):
    async def make(**changes) -> TestClient:
        changed = dataclasses.replace(settings, **changes)
        web_services.settings = changed
        return await aiohttp_client(create_app(changed, web_services))

    return make


def mark_demo_shop(services: Services) -> None:
    """What `supportbot seed-demo` leaves behind: its marker in `meta`."""
    with session_scope(services.session_factory) as session:
        session.add(Meta(key=META_KEY, value="20261123|2026-11-01"))


@pytest.fixture
async def demo(app_with, web_services: Services, catalog) -> TestClient:
    """The website of a seeded demo shop, with the demo login asked for."""
    mark_demo_shop(web_services)
    return await app_with(demo_login=True)


async def test_the_shop_page_shows_products_customers_and_the_widget(demo: TestClient, catalog):
    client = demo
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    assert "Trail Tent 2P" in html and "149.00 EUR" in html
    assert "Sold Out Lamp" not in html  # only what can be bought
    # Names are escaped, never markup.
    assert "<b>Boss</b>" not in html
    assert "Mug &#34;Best &lt;b&gt;Boss&lt;/b&gt;&#34; &amp; Co" in html
    options = re.findall(r'<option value="(\d*)">', html)
    assert options[0] == "" and len(options) == 11  # guest + ten demo customers
    assert f'<option value="{catalog["customers"][0]}">Customer 00 (Graz)</option>' in html
    assert re.search(r'<script src="/static/widget\.js(\?v=[^"]+)?" defer', html)
    assert re.search(r'<script src="/static/vendor/socket\.io\.min\.js(\?v=[^"]+)?" defer', html)
    assert 'data-socket-url="http://127.0.0.1:5005"' in html
    assert 'data-token=""' in html


async def test_the_shop_page_has_a_strict_content_security_policy(client: TestClient, catalog):
    response = await client.get("/")
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self' http://127.0.0.1:5005 ws://127.0.0.1:5005"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_page_uses_nothing_from_other_origins(client: TestClient, catalog):
    html = await (await client.get("/")).text()
    assert "<style" not in html and " style=" not in html  # no inline styles (CSP)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline scripts (CSP)
    for url in re.findall(r'(?:src|href|action)="([^"]*)"', html):
        assert url.startswith(("/", "#")), url
    # The one absolute address is Rasa's socket.io server, for the widget to connect to.
    assert set(re.findall(r"(?:https?|wss?)://[^\"'\s<>]+", html)) == {"http://127.0.0.1:5005"}


def test_the_socket_address_becomes_the_policys_connect_sources():
    assert socket_origins("https://chat.example.com/") == [
        "https://chat.example.com",
        "wss://chat.example.com",
    ]
    assert socket_origins("http://10.0.0.5:5005") == ["http://10.0.0.5:5005", "ws://10.0.0.5:5005"]
    assert socket_origins("") == [] and socket_origins("javascript:alert(1)") == []
    assert "connect-src 'self';" in content_security_policy("")


async def test_a_public_rasa_address_is_used_as_configured(app_with, catalog):
    client = await app_with(public_rasa_url="https://chat.example.com/")
    response = await client.get("/")
    assert 'data-socket-url="https://chat.example.com"' in await response.text()
    policy = response.headers["Content-Security-Policy"]
    assert "connect-src 'self' https://chat.example.com wss://chat.example.com" in policy
    config = await (await client.get("/widget/config")).json()
    assert config["socket_url"] == "https://chat.example.com"


async def test_the_widget_config_names_the_socket_address(client: TestClient):
    response = await client.get("/widget/config")
    assert response.status == 200
    body = await response.json()
    assert body["socket_url"] == "http://127.0.0.1:5005"
    assert "token" not in body  # the shop's visitors are anonymous until they log in


async def test_demo_login_returns_a_token_for_that_customer(
    demo: TestClient, catalog, web_services: Services
):
    client = demo
    customer_id = catalog["customers"][3]
    response = await client.post("/widget/login", json={"customer_id": customer_id})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["customer"] == {"id": customer_id, "name": "Customer 03"}
    assert verify(web_services.signing_key(), body["token"]) == Identity("customer", customer_id)
    assert verify("another-key-" * 4, body["token"]).is_anonymous


@pytest.mark.parametrize(
    "body, status",
    [({"customer_id": 999999}, 404), ({}, 400), ({"customer_id": "x"}, 400), ([1], 400)],
)
async def test_demo_login_refuses_unknown_customers_and_bad_requests(
    demo: TestClient, catalog, body, status
):
    client = demo
    response = await client.post("/widget/login", json=body)
    assert response.status == status
    garbled = await client.post("/widget/login", data=b"{not json")
    assert garbled.status == 400


@pytest.mark.parametrize(
    "seeded, asked",
    [(True, False), (False, True), (False, False)],
    ids=["demo-shop-not-asked", "asked-not-demo-shop", "neither"],
)
async def test_without_both_there_is_no_demo_login(
    app_with, catalog, web_services: Services, seeded: bool, asked: bool
):
    if seeded:
        mark_demo_shop(web_services)
    client = await app_with(demo_login=asked)
    response = await client.post("/widget/login", json={"customer_id": catalog["customers"][0]})
    assert response.status == 404
    html = await (await client.get("/")).text()
    assert "Log in as" not in html and "Customer 00" not in html
    assert not re.findall(r"<option", html)
    assert "Trail Tent 2P" in html  # the shop itself is still there


@pytest.mark.parametrize(
    "path, content_type",
    [
        ("widget.js", "text/javascript"),
        ("widget.css", "text/css"),
        ("shop.js", "text/javascript"),
        ("shop.css", "text/css"),
        ("vendor/socket.io.min.js", "text/javascript"),
        ("vendor/chart.umd.js", "text/javascript"),
    ],
)
async def test_static_assets_are_served(client: TestClient, path, content_type):
    if path.startswith("vendor/"):
        assert (STATIC / path).is_file(), "run `npm ci --prefix web && npm run build --prefix web`"
    response = await client.get(f"/static/{path}")
    assert response.status == 200
    assert response.content_type in (content_type, "application/javascript")
    assert len(await response.read()) > 500


def test_the_widget_inserts_text_never_html_and_loads_nothing_remote():
    for name in ("widget.js", "shop.js", "widget.css", "shop.css"):
        source = (STATIC / name).read_text(encoding="utf-8")
        assert "innerHTML" not in source and "insertAdjacentHTML" not in source, name
        assert "document.write" not in source and "eval(" not in source, name
        source = source.replace('"http://www.w3.org/2000/svg"', "")  # a namespace, not a fetch
        assert not re.search(r"https?://", source), name
        assert "@import" not in source, name


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
@pytest.mark.parametrize("name", ["widget.js", "shop.js"])
def test_the_scripts_parse(name):
    result = subprocess.run(
        ["node", "--check", str(STATIC / name)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
