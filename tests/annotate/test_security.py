import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from vatl.annotate.security import BodyLimit, SecurityHeaders, TokenGuard, check_token, new_token

TOKEN = "t" * 20


async def echo(request: Request):
    return JSONResponse({"bytes": len(await request.body())})


def _client(max_bytes=100) -> TestClient:
    app = Starlette(routes=[Route("/echo", echo, methods=["GET", "POST"])],
                    middleware=[Middleware(SecurityHeaders), Middleware(TokenGuard, token=TOKEN),
                                Middleware(BodyLimit, max_bytes=max_bytes)])
    return TestClient(app)


def test_no_token_is_401_a_wrong_one_403_the_right_one_passes_by_header_or_query():
    client = _client()
    assert client.get("/echo").status_code == 401
    assert "token" in client.get("/echo").json()["error"]
    assert client.get("/echo", headers={"X-Vatl-Token": "u" * 20}).status_code == 403
    assert client.get(f"/echo?token={'u' * 20}").status_code == 403
    assert client.get("/echo", headers={"X-Vatl-Token": TOKEN}).status_code == 200
    assert client.get(f"/echo?token={TOKEN}").status_code == 200
    assert client.get("/nowhere").status_code == 401  # unknown routes too: nothing is told without the token


def test_bodies_over_the_limit_are_413_by_declared_length_and_by_bytes_received():
    client = _client(max_bytes=100)
    headers = {"X-Vatl-Token": TOKEN}
    assert client.post("/echo", content=b"x" * 100, headers=headers).json() == {"bytes": 100}
    too_big = client.post("/echo", content=b"x" * 101, headers=headers)
    assert too_big.status_code == 413 and "100 bytes" in too_big.json()["error"]

    def chunks():  # no content-length: counted as it arrives
        for _ in range(5):
            yield b"x" * 40

    streamed = client.post("/echo", content=chunks(), headers=headers)
    assert streamed.status_code == 413


def test_every_response_carries_the_security_headers():
    client = _client()
    for response in (client.get("/echo"), client.get("/echo", headers={"X-Vatl-Token": TOKEN})):
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"


def test_tokens_are_long_and_url_safe():
    token = new_token()
    assert check_token(token) == token and len(token) >= 40 and new_token() != token
    for bad in ("short", "a" * 15, 'x"><script>' + "a" * 20, "a b" * 10):
        with pytest.raises(ValueError, match="URL-safe"):
            check_token(bad)
