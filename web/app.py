"""The app factory: one `IndexState`, the API and page routes, static files, middleware, error handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from qa.settings import Settings
from web.api import api_router
from web.pages import STATIC, make_templates, pages_router
from web.security import GuardMiddleware
from web.state import IndexNotReady, IndexState

if TYPE_CHECKING:
    from qa.answerer import Answerer

log = logging.getLogger("web")

DESCRIPTION = """Extractive, cited answers to questions about a folder of news articles.

Every answer is quoted verbatim from an article, with numbered citations (article, paragraph, character
offsets). Errors are JSON `{"detail": ...}`; 503 means no index has been built yet (run `qa index build`),
the index could not be loaded (rebuild it), or the server is busy (see `Retry-After`)."""


def create_app(settings: Settings | None = None, answerer: Answerer | None = None) -> FastAPI:
    """The web app. The index is loaded at start-up (or `answerer` is used as given); a background task
    picks up a rebuilt index every `settings.reload_check_seconds`, or the first one if there was none."""
    settings = settings or Settings()
    state = IndexState(settings, answerer)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.answerer is None:
            await anyio.to_thread.run_sync(state.refresh)
        poll = asyncio.create_task(_poll(state))
        try:
            yield
        finally:
            poll.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poll

    app = FastAPI(title="article-qa", version="0.1.0", description=DESCRIPTION, docs_url=None, redoc_url=None,
                  lifespan=lifespan)
    app.state.index = state
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes,
                       max_concurrent=settings.max_concurrent_requests,
                       body_timeout=settings.request_timeout_seconds)
    templates = make_templates()
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(IndexNotReady, _not_ready)
    app.add_exception_handler(HTTPException, _page_not_found(templates))
    app.add_exception_handler(Exception, _unexpected)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api_router(state))
    app.include_router(pages_router(state, templates))
    return app


async def _poll(state: IndexState) -> None:
    while True:
        await asyncio.sleep(max(0.05, state.settings.reload_check_seconds))
        await anyio.to_thread.run_sync(state.refresh)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """422 with what is wrong: location, message and type (the input itself is not echoed back)."""
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        msg = str(error.get("msg", "invalid"))
        kind = str(error.get("type", ""))
        ctx = error.get("ctx") or {}
        if kind == "json_invalid" and "error" in ctx:
            msg = f"{msg}: {ctx['error']}"
        elif kind in ("model_attributes_type", "dict_type") and tuple(error.get("loc", ())) == ("body",):
            msg = "the body must be a JSON object, sent with `Content-Type: application/json`"
        elif kind == "missing" and tuple(error.get("loc", ())) == ("body",):
            msg = 'the body must be a JSON object with a "question"'
        errors.append({"loc": list(error.get("loc", ())), "msg": msg, "type": kind})
    return JSONResponse({"detail": errors}, status_code=422)


def _page_not_found(templates: Jinja2Templates) -> Any:
    """An address with no page, asked for by a browser, gets a page saying so; an API client gets the JSON."""

    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404 and not request.url.path.startswith("/api/") \
                and "text/html" in request.headers.get("accept", ""):
            return templates.TemplateResponse(request, "error.html", {
                "title": "Page not found", "message": "There is no page at this address."}, status_code=404)
        return await http_exception_handler(request, exc)

    return handler


async def _not_ready(request: Request, exc: Exception) -> JSONResponse:
    detail = exc.detail if isinstance(exc, IndexNotReady) else str(exc)
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> Any:
    """A bug, not a bad request: log it with its traceback and answer JSON rather than a bare text page."""
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error (logged on the server)"}, status_code=500)
