"""The JSON API: /api/ask, /api/articles, /api/articles/{article_id}, /healthz. Routes are thin.

No `from __future__ import annotations` here: FastAPI reads the route annotations at run time, and the
request model is made per app (its length limit comes from the settings).
"""

import secrets
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from web.models import (
    AnswerModel,
    ArticleDetail,
    ArticleList,
    ArticleSummary,
    ErrorModel,
    Health,
    IndexInfo,
    ask_request_model,
)
from web.state import IndexNotReady, IndexState

_bearer = HTTPBearer(auto_error=False, description="the token the server was started with (QA_API_TOKEN)")

UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorModel, "description": "no index has been built yet (run `qa index build`), or the "
                                              "server is busy: retry after `Retry-After` seconds"},
}
QUERY_ERRORS: dict[int | str, dict[str, Any]] = {
    **UNAVAILABLE,
    422: {"model": ErrorModel, "description": "`offset` or `limit` not a whole number or out of range"},
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **UNAVAILABLE,
    422: {"model": ErrorModel, "description": "invalid request: a body that is not UTF-8 JSON, or a field missing, "
                                              "of the wrong type or out of range"},
    408: {"model": ErrorModel, "description": "the body did not arrive in time (the request timeout)"},
    413: {"model": ErrorModel, "description": "the body is larger than the limit"},
}
TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorModel, "description": "missing or wrong bearer token"},
}


def state_of(request: Request) -> IndexState:
    return request.app.state.index


def check_token(request: Request,
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    token = state_of(request).settings.api_token
    if not token:
        return
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), token.encode()):
        raise HTTPException(401, "a valid `Authorization: Bearer <token>` header is required",
                            headers={"WWW-Authenticate": "Bearer"})


def busy(detail: str, retry_after: int = 1) -> HTTPException:
    return HTTPException(503, detail, headers={"Retry-After": str(retry_after)})


def _summary(record: Any) -> ArticleSummary:
    return ArticleSummary(article_id=record.article_id, title=record.title, byline=record.byline,
                          date=record.date, url=record.url, source=record.source,
                          paragraph_count=record.paragraph_count)


def api_router(state: IndexState) -> APIRouter:
    settings = state.settings
    AskRequest = ask_request_model(settings.max_question_chars)
    limiter = anyio.CapacityLimiter(max(1, settings.max_concurrent_requests))
    router = APIRouter()
    # The schema says what this server does: a bearer token and its 401 only when QA_API_TOKEN is set.
    guarded = bool(settings.api_token)
    api = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(check_token)] if guarded else [],
                    responses=TOKEN_ERRORS if guarded else None)

    @api.post("/ask", response_model=AnswerModel, responses=BODY_ERRORS, summary="Answer a question")
    async def ask(body: AskRequest) -> dict:  # type: ignore[valid-type]
        """Answer a question from the indexed articles, extractively, with citations.

        Pass the returned `session_id` back to ask a follow-up ("And how many were killed?")."""
        answerer = state.require()
        question = body.question.strip()
        try:
            with anyio.fail_after(settings.request_timeout_seconds):
                answer = await anyio.to_thread.run_sync(
                    lambda: answerer.ask(question, session_id=body.session_id, top_k=body.top_k),
                    limiter=limiter, abandon_on_cancel=True)
        except TimeoutError:
            limit = settings.request_timeout_seconds
            raise busy(f"answering took longer than {limit:g} s; try again") from None
        return answer.to_dict()

    @api.get("/articles", response_model=ArticleList, responses=QUERY_ERRORS,
             summary="List indexed articles")
    async def articles(offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> ArticleList:
        reader = state.require().index.reader
        records = await anyio.to_thread.run_sync(lambda: reader.articles(offset, limit))
        return ArticleList(total=reader.manifest.counts.get("articles", 0), offset=offset, limit=limit,
                           articles=[_summary(r) for r in records])

    @api.get("/articles/{article_id:path}", response_model=ArticleDetail,
             responses={**UNAVAILABLE, 404: {"model": ErrorModel, "description": "no article with that id"}},
             summary="One article: metadata and paragraphs")
    async def article(article_id: str) -> ArticleDetail:
        reader = state.require().index.reader
        found = await anyio.to_thread.run_sync(lambda: reader.article(article_id))
        if found is None:
            raise HTTPException(404, f"no article with id {article_id!r}")
        record, paragraphs = found
        return ArticleDetail(**_summary(record).model_dump(), paragraphs=paragraphs)

    @router.get("/healthz", response_model=Health, tags=["health"],
                responses={503: {"model": Health, "description": "no index yet"}},
                summary="Is the server ready, and with which index")
    async def healthz() -> Any:
        uptime = round(state.uptime(), 3)
        try:
            manifest = state.require().index.reader.manifest
        except IndexNotReady as exc:
            health = Health(status="no_index", detail=exc.detail, uptime_seconds=uptime)
            return JSONResponse(health.model_dump(), status_code=503, headers={"Retry-After": "5"})
        info = IndexInfo(model=manifest.model, dimension=manifest.dimension, counts=manifest.counts,
                         built_at=manifest.built_at, generation=manifest.generation)
        return Health(status="ok", index=info, uptime_seconds=uptime)

    router.include_router(api)
    return router
