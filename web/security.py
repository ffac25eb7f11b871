"""One ASGI middleware in front of everything: security headers, a body size limit, load shedding.

Pure ASGI (no BaseHTTPMiddleware) so that it sees the raw body stream: a body over the limit is refused
with 413 whether or not it declares a Content-Length, before the app parses a byte of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.decoding import parse_json

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
JSON_TYPES = (b"application/json", b"+json")


class GuardMiddleware:
    """Adds security headers to every response; refuses bodies over `max_body_bytes` (413), bodies that
    do not arrive within `body_timeout` seconds (408: a stalled upload must not hold a slot forever) and
    bodies that declare JSON but are not UTF-8 or not readable as JSON (422); sheds requests beyond
    `max_concurrent` with 503; answers HEAD as GET without the body."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_concurrent: int, body_timeout: float = 10.0,
                 unlimited_prefixes: Iterable[str] = ("/healthz", "/static/")) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.max_concurrent = max(1, max_concurrent)
        self.unlimited = tuple(unlimited_prefixes)
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send, scope)
        if scope["method"] == "HEAD":  # HTTP wants HEAD wherever GET is (uptime checks use it): a GET, no body
            scope, send = {**scope, "method": "GET"}, _headless(send)
        counted = not scope["path"].startswith(self.unlimited)
        if counted and self.in_flight >= self.max_concurrent:
            await _json(send, 503, "the server is busy: retry in a moment", ((b"retry-after", b"1"),))
            return
        if counted:
            self.in_flight += 1
        try:
            await self._guarded(scope, receive, send)
        finally:
            if counted:
                self.in_flight -= 1

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)  # the first of a repeated header, as Starlette reads it
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _json(send, 400, "invalid Content-Length header")
                return
            if int(declared) > self.max_body_bytes:
                await _json(send, 413, f"the request body is larger than {self.max_body_bytes} bytes")
                return
        chunks: list[bytes] = []
        size = 0
        with anyio.move_on_after(self.body_timeout) as deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    await _json(send, 413, f"the request body is larger than {self.max_body_bytes} bytes")
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            await _json(send, 408, f"the request body did not arrive within {self.body_timeout:g} s",
                        ((b"connection", b"close"),))
            return
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if body and content_type.endswith(JSON_TYPES):
            problem = _unreadable(body)
            if problem:
                await _json(send, 422, [{"loc": ["body"], **problem}])
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _unreadable(body: bytes) -> dict[str, str] | None:
    """Why a JSON body cannot be read, as an error's type and message (not UTF-8, not JSON, or JSON the parser
    gives up on: an integer of thousands of digits, arrays nested thousands deep, where FastAPI would answer a
    bare 400); None if it can."""
    try:
        text = body.decode("utf-8-sig")  # FastAPI accepts a byte-order mark too
    except UnicodeDecodeError as exc:
        return {"type": "utf8_invalid", "msg": f"the body is not UTF-8 text (byte {exc.start})"}
    _, problem = parse_json(text)
    return {"type": "json_invalid", "msg": f"invalid JSON ({problem})"} if problem else None


def _headless(send: Send) -> Send:
    """`send` for a HEAD request answered as a GET: the response's status and headers, none of its body."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return wrapped


def _with_headers(send: Send, scope: Scope) -> Send:
    api = scope["path"].startswith("/api/")

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
            if api and b"cache-control" not in present:
                extra.append((b"cache-control", b"no-store"))
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def _json(send: Send, status: int, detail: object,
                headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})
