"""`qa serve`: run the app with uvicorn on settings.host:settings.port (loopback by default)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import sys

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from qa.settings import Settings


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's headers.

    uvicorn times a connection out only while it idles after a response; a client that connects and sends
    nothing, or trickles its headers a byte at a time (slowloris), would hold its socket forever. Here the
    headers of every request (the first, and each next one on a kept-alive connection) must be complete
    within `header_timeout` seconds, else the connection is closed. The body has its own deadline in
    `web.security.GuardMiddleware`."""

    header_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._arm_header_deadline()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request's headers are in: the deadline is met
            self._disarm_header_deadline()

    def on_response_complete(self) -> None:
        self._arm_header_deadline()  # first: completing may start the next (pipelined) request at once
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_deadline(self) -> None:
        deadline = getattr(self, "_header_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        busy = self.cycle is not None and not self.cycle.response_complete
        if not busy and not self.transport.is_closing():
            self.transport.close()


def protocol_with_header_timeout(seconds: float) -> type[TimedH11Protocol]:
    return type("TimedH11Protocol", (TimedH11Protocol,), {"header_timeout": max(0.5, seconds)})


def exposure_warning(settings: Settings) -> str | None:
    """A warning when the API is reachable from other machines without a token, else None."""
    if settings.api_token or _is_loopback(settings.host):
        return None
    return (f"article-qa: warning: listening on {settings.host} without QA_API_TOKEN: anyone who can reach "
            "this port can use the API (set QA_API_TOKEN, or serve on 127.0.0.1 behind a proxy)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_for(host: str, port: int) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    return f"http://{host}:{port}/"


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints `announcement` once its port is bound, not before: a port in use must
    not read as 'serving' followed by an error."""

    def __init__(self, config: uvicorn.Config, announcement: str) -> None:
        super().__init__(config)
        self.announcement = announcement

    async def startup(self, sockets: list | None = None) -> None:
        await super().startup(sockets)  # exits (SystemExit) when it cannot bind
        print(self.announcement, flush=True)


def serve(settings: Settings) -> int:
    """Load the index once, serve until interrupted; returns the exit code."""
    from web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    app = create_app(settings)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info",
                            server_header=False, proxy_headers=False, access_log=True,
                            timeout_graceful_shutdown=5,
                            http=protocol_with_header_timeout(settings.request_timeout_seconds))
    server = _AnnouncingServer(config, f"article-qa: serving {settings.index_dir} on "
                                       f"{url_for(settings.host, settings.port)} (Ctrl+C to stop)")
    if warning := exposure_warning(settings):
        print(warning, file=sys.stderr, flush=True)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after a clean shutdown
        print("article-qa: stopped", flush=True)
        return 0
    except SystemExit as exc:  # uvicorn exits this way when it cannot bind the port
        code = exc.code if isinstance(exc.code, int) else 1
        if code:
            print(f"qa: error: could not serve on {settings.host}:{settings.port} (see the log above)",
                  file=sys.stderr)
        return code
    return 0 if server.started else 1
