"""The action server answers only the Rasa server: the shared secret, except for /health."""

from __future__ import annotations

import json
from types import SimpleNamespace

from sanic import Sanic

from bot.auth.keys import ACTION_SECRET_HEADER
from bot.rasa.action_server import create_app, secret_matches
from bot.settings import Settings


def test_only_the_exact_secret_matches():
    assert secret_matches("s3cret", "s3cret")
    assert not any(secret_matches(p, "s3cret") for p in (None, "", "s3cre", "s3cret ", "S3CRET", "é"))


async def test_requests_without_the_secret_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(Sanic, "test_mode", True)  # several apps of one name in one process
    app = create_app(Settings(var_dir=tmp_path, action_server_secret="s3cret"))
    (require_secret,) = [m for m in app.request_middleware if m.__name__ == "require_secret"]

    async def answer(method: str, path: str, **headers: str):
        request = SimpleNamespace(method=method, path=path, headers=headers)
        return await require_secret(request)

    assert await answer("GET", "/health") is None
    assert await answer("POST", "/webhook", **{ACTION_SECRET_HEADER: "s3cret"}) is None
    for method, path in (("POST", "/webhook"), ("GET", "/actions"), ("POST", "/health")):
        refused = await answer(method, path, **{ACTION_SECRET_HEADER: "wrong"})
        assert refused.status == 401 and "error" in json.loads(refused.body)
