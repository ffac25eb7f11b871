"""HTML pages: the chat page, the article page with its highlighted span, and an offline API reference."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import jinja2
import markupsafe
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from qa.metadata import HEADER, Header, by_line
from web.examples import example_questions
from web.state import IndexState

if TYPE_CHECKING:
    from qa.answerer import Answerer

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
EXAMPLE_SCAN = 500  # articles looked at (in id order) for example questions


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    versions = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10]
                for p in STATIC.iterdir() if p.is_file()}
    env.globals["static"] = lambda name: f"/static/{name}?v={versions.get(name, '0')}"
    env.filters["code_spans"] = code_spans
    return Jinja2Templates(env=env)


def code_spans(text: str) -> markupsafe.Markup:
    """Plain text with its `backticked` parts (commands in a server message) set as code, everything escaped."""
    parts = str(markupsafe.escape(text)).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: nothing is code
        return markupsafe.Markup(markupsafe.escape(text))
    return markupsafe.Markup("".join(f"<code>{p}</code>" if k % 2 else p for k, p in enumerate(parts)))


_INTEGER = re.compile(r"-?[0-9]{1,11}")  # ASCII digits only: "²" and "٣" are digits to str.isdigit


def _int(value: str | None) -> int | None:
    """A lenient query integer: junk means absent (a page should open even from a mangled link)."""
    if value is None:
        return None
    return int(value) if _INTEGER.fullmatch(value.strip()) else None


# What a link says its passage is to the question it came from (the chat page's `as` parameter).
PASSAGE_ROLES = {
    "answer": "The answer is quoted from here.",
    "related": "A passage related to your question (the answer is quoted from another).",
    "closest": "This passage came closest to your question, but the articles do not answer it.",
}


@dataclass(frozen=True)
class ParagraphView:
    """One paragraph of the article page, split around its highlighted span (empty `mark` for none); `short`:
    where the short answer sits in `mark` (start, end), if it does."""

    index: int
    before: str
    mark: str
    after: str
    target: bool
    short: tuple[int, int] | None = None

    @property
    def mark_parts(self) -> tuple[str, str, str]:
        """`mark` as the text before the short answer, the short answer, and the text after it."""
        a, b = self.short or (len(self.mark), len(self.mark))
        return self.mark[:a], self.mark[a:b], self.mark[b:]


def paragraph_views(paragraphs: list[str], p: int | None, start: int | None, end: int | None,
                    short: tuple[int | None, int | None] = (None, None)) -> list[ParagraphView]:
    """Split paragraph `p` into before/mark/after at characters start..end, clamping bad offsets; `short`: the
    short answer's offsets in the paragraph, kept only when they lie inside the mark."""
    views = []
    for i, text in enumerate(paragraphs):
        if i != p:
            views.append(ParagraphView(i, text, "", "", False))
            continue
        if start is None or end is None:
            s = e = 0
        else:
            s = min(max(start, 0), len(text))
            e = min(max(end, s), len(text))
        a, b = short
        inside = (a - s, b - s) if a is not None and b is not None and s <= a < b <= e else None
        views.append(ParagraphView(i, text[:s], text[s:e], text[e:], True, inside))
    return views


class ExampleCache:
    """Example questions of the live index generation, computed once per generation: questions made from the
    titles of its first articles that it answers from the titled article, most confident first."""

    def __init__(self) -> None:
        self.generation: str | None = None
        self.questions: list[str] = []

    def get(self, answerer: Answerer) -> list[str]:
        reader = answerer.index.reader
        generation = reader.manifest.generation
        if generation != self.generation:
            rows = reader.articles(0, EXAMPLE_SCAN)

            def rate(n: int, question: str) -> float:
                answer = answerer.ask(question, remember=False)
                return answer.confidence if answer.found and answer.citations[0].article_id == rows[n].article_id \
                    else 0.0

            self.questions = example_questions([r.title for r in rows], 3, rate)
            self.generation = generation
        return self.questions


def pages_router(state: IndexState, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    examples = ExampleCache()
    settings = state.settings

    @router.get("/", response_class=HTMLResponse)
    async def chat(request: Request) -> HTMLResponse:
        answerer = state.answerer
        context: dict[str, Any] = {
            "ready": answerer is not None, "examples": [], "article_count": 0, "unavailable": state.unavailable,
            "max_question_chars": settings.max_question_chars, "token_required": bool(settings.api_token),
        }
        if answerer is not None:
            reader = answerer.index.reader
            context["examples"] = await anyio.to_thread.run_sync(examples.get, answerer)
            context["article_count"] = reader.manifest.counts.get("articles", 0)
        return templates.TemplateResponse(request, "chat.html", context,
                                          status_code=200 if answerer is not None else 503)

    @router.get("/articles/{article_id:path}", response_class=HTMLResponse)
    async def article(request: Request, article_id: str, p: str | None = None, start: str | None = None,
                      end: str | None = None, short_start: str | None = None, short_end: str | None = None,
                      role: Annotated[str | None, Query(alias="as")] = None) -> HTMLResponse:
        answerer = state.answerer
        if answerer is None:
            return templates.TemplateResponse(request, "error.html", {
                "title": "No index to answer from", "message": code_spans(state.unavailable)}, status_code=503)
        reader = answerer.index.reader
        found = await anyio.to_thread.run_sync(reader.article, article_id)
        if found is None:
            return templates.TemplateResponse(request, "error.html", {
                "title": "Article not found",
                "message": f"There is no article with the id “{article_id}” in the index."}, status_code=404)
        record, paragraphs = found
        target = _int(p)
        header = Header.of(record.byline, record.date, record.source, record.url)
        header_view = None
        if target == HEADER and header.text:
            view = paragraph_views([header.text], 0, _int(start), _int(end), (_int(short_start), _int(short_end)))[0]
            header_view = replace(view, index=HEADER)
        elif target is not None and not 0 <= target < len(paragraphs):
            target = None
        byline = by_line(record.byline) if record.byline else ""
        return templates.TemplateResponse(request, "article.html", {
            "article": record, "byline": byline,
            "paragraphs": paragraph_views(paragraphs, target, _int(start), _int(end),
                                          (_int(short_start), _int(short_end))),
            "header": header_view, "role_note": PASSAGE_ROLES.get(role or ""),
            "closest": role == "closest",
        })

    @router.get("/docs", response_class=HTMLResponse)
    async def docs(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "docs.html", {"api": api_reference(request.app.openapi())})

    return router


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list[{_type(schema.get('items', {}))}]"
    if schema.get("type") == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return f"dict[str, {_type(extra) if isinstance(extra, dict) else 'any'}]"
    return {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "null",
            "object": "object"}.get(schema.get("type", ""), "any")


def _constraints(schema: dict[str, Any]) -> str:
    notes = []
    for option in [schema, *schema.get("anyOf", [])]:
        for key, label in (("minLength", "min length"), ("maxLength", "max length"), ("minimum", "≥"),
                           ("maximum", "≤"), ("pattern", "pattern")):
            if key in option:
                value = option[key]
                notes.append(f"{label} {int(value) if isinstance(value, float) and value.is_integer() else value}")
    if "default" in schema:
        notes.append(f"default {schema['default']!r}" if schema["default"] is not None else "default null")
    return ", ".join(notes)


def api_reference(openapi: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document reshaped for a plain HTML page (no Swagger UI: it would need a CDN)."""
    operations = []
    for path, methods in openapi.get("paths", {}).items():
        for method, op in methods.items():
            body = _json_schema(op.get("requestBody", {}))
            operations.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "parameters": [_parameter(p) for p in op.get("parameters", [])],
                "body": _type(body) if body else None,
                "responses": [{"code": code, "description": r.get("description", ""),
                               "type": _type(_json_schema(r)) if _json_schema(r) else ""}
                              for code, r in op.get("responses", {}).items()],
            })
    schemas = []
    for name, schema in openapi.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        schemas.append({"name": name, "description": schema.get("description", ""), "fields": [
            {"name": field, "type": _type(s), "required": field in required,
             "description": s.get("description", ""), "notes": _constraints(s)}
            for field, s in schema.get("properties", {}).items()]})
    info = openapi.get("info", {})
    return {"title": info.get("title", ""), "version": info.get("version", ""),
            "description": info.get("description", ""), "operations": operations, "schemas": schemas}


def _parameter(p: dict[str, Any]) -> dict[str, Any]:
    schema = p.get("schema", {})
    return {"name": p["name"], "in": p["in"], "type": _type(schema), "required": p.get("required", False),
            "notes": _constraints(schema)}


def _json_schema(part: dict[str, Any]) -> dict[str, Any] | None:
    return part.get("content", {}).get("application/json", {}).get("schema")
