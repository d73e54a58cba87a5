"""The demo shop page with the chat widget (`/`), and the widget's configuration and login.

The widget (static/widget.js) talks to Rasa's socket.io channel directly; this module only
tells it where that is and, for the demo, hands out customer tokens:

- `GET /`               the shop page: a few products, the widget, "log in as" a demo customer
- `GET /widget/config`  `{"socket_url": ..., "title": ...}`: where the widget connects (the
                        shop's visitors have no token; pages for staff embed theirs)
- `POST /widget/login`  `{"customer_id": 12}` -> `{"token": ..., "customer": {...}}`, a customer
                        token signed with the app's key

"Log in as" lets anyone who reaches the page speak for any customer, so it exists only where
both hold: the database is the demo shop (`supportbot seed-demo` marked it) and
`settings.demo_login` asks for it (SUPPORTBOT_DEMO_LOGIN=1). Otherwise the page lists no
customers and `/widget/login` is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session
from yarl import URL

from bot.auth.tokens import mint
from bot.demo.seed import is_demo_shop
from bot.settings import Settings
from bot.storage.models import Customer, Product
from bot.support.products import line_of
from bot.web.db import in_session
from bot.web.keys import services_key, settings_key

PRODUCTS_SHOWN = 8
DEMO_CUSTOMERS = 10
WIDGET_TITLE = "Customer support"


def socket_url(request: web.Request) -> str:
    """Where the browser reaches Rasa's socket.io channel: the configured public address,
    else this page's host name on Rasa's port."""
    settings = request.app[settings_key]
    if settings.public_rasa_url:
        return settings.public_rasa_url.rstrip("/")
    # Not `request.url`: aiohttp 3.9 builds it in a way that newer yarl rejects ("host:port").
    try:
        hostname = URL(f"{request.scheme}://{request.host}").host
    except ValueError:
        hostname = None
    page = URL.build(scheme=request.scheme, host=hostname or settings.web_host)
    return str(page.with_port(settings.rasa_port))


def socket_origins(url: str) -> list[str]:
    """The CSP sources for `url`: its origin over HTTP(S) (polling) and over WS(S)."""
    parsed = URL(url)
    if not parsed.is_absolute() or parsed.scheme not in ("http", "https", "ws", "wss"):
        return []
    secure = parsed.scheme in ("https", "wss")
    origin = parsed.origin()
    return [
        str(origin.with_scheme("https" if secure else "http")),
        str(origin.with_scheme("wss" if secure else "ws")),
    ]


def content_security_policy(url: str) -> str:
    connect = " ".join(["'self'", *socket_origins(url)])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {connect}",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _shelf(products: list[Product]) -> list[Product]:
    """A varied shelf: one variant per product line, taking turns across the categories."""
    by_category: dict[str, list[Product]] = {}
    lines: set[str] = set()
    for product in products:
        if line_of(product.name) not in lines:
            lines.add(line_of(product.name))
            by_category.setdefault(product.category, []).append(product)
    shelf: list[Product] = []
    while len(shelf) < PRODUCTS_SHOWN and any(by_category.values()):
        for items in by_category.values():
            if items and len(shelf) < PRODUCTS_SHOWN:
                shelf.append(items.pop(0))
    return shelf


@dataclass(frozen=True)
class ShopPage:
    products: list[dict[str, Any]]
    customers: list[dict[str, Any]]  # empty unless the demo login is on
    demo_login: bool


def demo_login_enabled(settings: Settings, session: Session) -> bool:
    """Whether "log in as" is offered: asked for, and this database is the demo shop."""
    return settings.demo_login and is_demo_shop(session)


def _shop(settings: Settings, session: Session) -> ShopPage:
    products = session.execute(
        select(Product).where(Product.stock > 0).order_by(Product.category, Product.id)
    ).scalars()
    shelf = [
        {
            "name": p.name,
            "category": p.category,
            "price": f"{p.price:.2f}",
            "description": p.description,
        }
        for p in _shelf(list(products))
    ]
    if not demo_login_enabled(settings, session):
        return ShopPage(shelf, [], demo_login=False)
    customers = session.execute(select(Customer).order_by(Customer.id).limit(DEMO_CUSTOMERS))
    listed = [{"id": c.id, "name": c.name, "city": c.city} for c in customers.scalars()]
    return ShopPage(shelf, listed, demo_login=True)


async def shop_page(request: web.Request) -> web.Response:
    settings = request.app[settings_key]
    url = socket_url(request)
    shop = await in_session(request, lambda session: _shop(settings, session))
    response = aiohttp_jinja2.render_template(
        "shop.html.j2",
        request,
        {
            "products": shop.products,
            "customers": shop.customers,
            "demo_login": shop.demo_login,
            "widget_socket_url": url,
            "widget_token": "",
            "widget_title": WIDGET_TITLE,
            "widget_storage_key": "supportbot-shop",
        },
    )
    response.headers["Content-Security-Policy"] = content_security_policy(url)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


async def widget_config(request: web.Request) -> web.Response:
    return web.json_response(
        {"socket_url": socket_url(request), "title": WIDGET_TITLE},
        headers={"Cache-Control": "no-store"},
    )


async def demo_login(request: web.Request) -> web.Response:
    """A customer token for the demo's "log in as"; 404 where the demo login is off."""
    settings = request.app[settings_key]
    if not settings.demo_login:  # the common case answers without touching the database
        raise web.HTTPNotFound()
    try:
        body = await request.json()
        customer_id = int(body["customer_id"])
    except (ValueError, TypeError, KeyError):
        raise web.HTTPBadRequest(text='expected JSON {"customer_id": <number>}') from None

    def find(session: Session) -> dict[str, Any] | None:
        if not demo_login_enabled(settings, session):
            raise web.HTTPNotFound()
        customer = session.get(Customer, customer_id)
        return {"id": customer.id, "name": customer.name} if customer is not None else None

    found = await in_session(request, find)
    if found is None:
        raise web.HTTPNotFound(text="no such customer")
    services = request.app[services_key]
    token = mint(services.signing_key(), "customer", customer_id=customer_id, audience="chat")
    return web.json_response(
        {"token": token, "customer": found}, headers={"Cache-Control": "no-store"}
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/", shop_page, name="shop")
    app.router.add_get("/widget/config", widget_config, name="widget_config")
    app.router.add_post("/widget/login", demo_login, name="widget_login")
