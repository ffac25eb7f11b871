"""`qa serve`: run the app with uvicorn on settings.host:settings.port (loopback by default)."""

from __future__ import annotations

import ipaddress
import logging
import sys

from qa.settings import Settings


def url_for(host: str, port: int) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    return f"http://{host}:{port}/"


def serve(settings: Settings) -> int:
    """Load the index once, serve until interrupted; returns the exit code."""
    import uvicorn

    from web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    app = create_app(settings)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info",
                            server_header=False, proxy_headers=False, access_log=True,
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    print(f"article-qa: serving {settings.index_dir} on {url_for(settings.host, settings.port)}"
          " (Ctrl+C to stop)", flush=True)
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
