"""The demo shop page with the chat widget (`/`), and the widget's configuration and login.

The widget (static/widget.js) talks to Rasa's socket.io channel directly; this module only
tells it where that is and, for the demo, hands out customer tokens:

- `GET /`               the shop page: a few products, the widget, "log in as" a demo customer
- `GET /widget/config`  `{"socket_url": ..., "title": ...}`: where the widget connects (the
                        shop's visitors have no token; pages for staff embed theirs)
- `POST /widget/login`  `{"customer_id": 12}` -> `{"token": ..., "customer": {...}}`, a customer
                        token signed with the app's key; 404 unless `settings.demo_login`
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select
from yarl import URL

from bot.auth.tokens import mint
from bot.storage.models import Customer, Product
from bot.storage.session import session_scope
from bot.support.products import line_of
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


def _catalog(request: web.Request) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    services = request.app[services_key]
    with session_scope(services.session_factory) as session:
        products = session.execute(
            select(Product).where(Product.stock > 0).order_by(Product.category, Product.id)
        ).scalars()
        customers = session.execute(
            select(Customer).order_by(Customer.id).limit(DEMO_CUSTOMERS)
        ).scalars()
        return (
            [
                {
                    "name": p.name,
                    "category": p.category,
                    "price": f"{p.price:.2f}",
                    "description": p.description,
                }
                for p in _shelf(list(products))
            ],
            [{"id": c.id, "name": c.name, "city": c.city} for c in customers],
        )


async def shop_page(request: web.Request) -> web.Response:
    settings = request.app[settings_key]
    url = socket_url(request)
    products, customers = _catalog(request)
    response = aiohttp_jinja2.render_template(
        "shop.html.j2",
        request,
        {
            "products": products,
            "customers": customers if settings.demo_login else [],
            "demo_login": settings.demo_login,
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
    """A customer token for the demo's "log in as"; there is no login server-side."""
    settings = request.app[settings_key]
    if not settings.demo_login:
        raise web.HTTPNotFound()
    try:
        body = await request.json()
        customer_id = int(body["customer_id"])
    except (ValueError, TypeError, KeyError):
        raise web.HTTPBadRequest(text='expected JSON {"customer_id": <number>}') from None
    services = request.app[services_key]
    with session_scope(services.session_factory) as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise web.HTTPNotFound(text="no such customer")
        found = {"id": customer.id, "name": customer.name}
    token = mint(services.signing_key(), "customer", customer_id=customer_id)
    return web.json_response(
        {"token": token, "customer": found}, headers={"Cache-Control": "no-store"}
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/", shop_page, name="shop")
    app.router.add_get("/widget/config", widget_config, name="widget_config")
    app.router.add_post("/widget/login", demo_login, name="widget_login")
