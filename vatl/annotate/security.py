"""Who may talk to the annotator, and how much: the URL token and the request-body limit (ASGI middleware).

Every request must carry the server's random token, as ``?token=…`` (the printed URL, image URLs) or the
``X-Vatl-Token`` header (the page's API calls): without one it gets 401, with a wrong one 403. Request
bodies above ``max_bytes`` get 413 (checked on the declared length and on the bytes actually received).
:class:`SecurityHeaders` keeps the page to its own scripts, out of frames, and the token out of referrers.
The middleware order (outermost first): SecurityHeaders, TokenGuard, BodyLimit (inside Starlette's error
handling, so that a body found too large while a route reads it still gets its 413).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs

TOKEN_HEADER = "x-vatl-token"
TOKEN_PARAM = "token"
MAX_BODY_BYTES = 64 * 1024  # one answer is well under 2 KB (17 joints × 3 numbers)
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
                                 b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]

Scope = dict[str, Any]


def new_token() -> str:
    """A random URL-safe token (32 bytes of the OS's randomness)."""
    return secrets.token_urlsafe(32)


def check_token(token: str) -> str:
    """``token`` if it is at least 16 URL-safe characters (letters, digits, ``-``, ``_``), else a ValueError."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,}", token):
        raise ValueError("the annotator's token must be at least 16 URL-safe characters (A-Z a-z 0-9 - _)")
    return token


async def send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


def request_token(scope: Scope) -> str | None:
    """The token a request carries (header first, then the query string), or None."""
    for name, value in scope.get("headers", []):
        if name == TOKEN_HEADER.encode():
            return value.decode("latin-1")
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(TOKEN_PARAM)
    return values[0] if values else None


class TokenGuard:
    """Refuses every HTTP request without the token (401) or with another one (403)."""

    def __init__(self, app: Any, token: str) -> None:
        check_token(token)
        self.app = app
        self.token = token.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = request_token(scope)
        if given is None:
            return await send_json(send, 401, {"error": "this annotator needs its token: open the URL the server "
                                                        "printed (…/?token=…)"})
        if not secrets.compare_digest(given.encode("utf-8"), self.token):
            return await send_json(send, 403, {"error": "wrong token: open the URL the server printed"})
        await self.app(scope, receive, send)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuses request bodies larger than ``max_bytes`` with 413, before the route reads them whole."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                return await send_json(send, 413, {"error": f"request body over {self.max_bytes} bytes"})
        received = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:  # raised while the route reads the body: nothing was sent yet
            await send_json(send, 413, {"error": f"request body over {self.max_bytes} bytes"})


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response (unless the response sets them itself)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                have = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in have]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
