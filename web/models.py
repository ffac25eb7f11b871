"""Pydantic request and response models of the HTTP API (they are what /openapi.json documents)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, create_model, field_validator

SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
MAX_TOP_K = 10


class AskRequestBase(BaseModel):
    """A question, and optionally the conversation it continues. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    question: str
    session_id: Annotated[StrictStr | None, Field(
        None, pattern=SESSION_ID_PATTERN,
        description="the `session_id` of an earlier answer, to ask a follow-up in the same conversation "
                    "(1-128 characters of A-Z a-z 0-9 _ -); omit or null to start a new conversation")]
    top_k: Annotated[StrictInt | None, Field(
        None, ge=1, le=MAX_TOP_K, description="how many citations to return (1-10; default 3)")]

    @field_validator("top_k", mode="before")
    @classmethod
    def _integral_number_is_an_integer(cls, value: Any) -> Any:
        """6.0 is the integer 6 in JSON (and in the schema's `integer`); 6.5 and "6" are still refused."""
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    @field_validator("question")
    @classmethod
    def _question_is_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is blank")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the question is not valid Unicode text (lone surrogate)") from None
        return value


def ask_request_model(max_question_chars: int) -> type[AskRequestBase]:
    """The request model with the configured question length in its schema and its validation."""
    return create_model(
        "AskRequest",
        __base__=AskRequestBase,
        question=(Annotated[StrictStr, Field(
            min_length=1, max_length=max_question_chars,
            description=f"the question, in plain words (1-{max_question_chars} characters, not blank)",
            examples=["How many casualties have North Korean troops suffered?"])], ...),
    )


class CitationModel(BaseModel):
    """A passage that supports the answer (the first, when `found`) or comes closest to it."""

    n: int = Field(description="citation number, 1 for the best")
    article_id: str = Field(description="the article's id (may contain `/`)")
    title: str = Field(description="the article's title")
    url: str | None = Field(description="the article's original URL, when known")
    paragraph_index: int = Field(description="0-based index of the paragraph among the article's body "
                                             "paragraphs; -1 for the article's header (byline, date, source, url: "
                                             "what \"Who wrote the article?\" is answered from)")
    text: str = Field(description="the whole source paragraph (or header line)")
    start: int = Field(description="start of the cited span: character offset into `text`")
    end: int = Field(description="end of the cited span (exclusive): `text[start:end]` is the cited span")
    score: float = Field(description="ranking score of the paragraph for this question, in a conversation with "
                               "its lean towards the article being discussed (higher is better; not a probability). "
                               "Citations after the first come in this order; the first is the answer's source, "
                               "picked by reading sentences, so it can score below the second")
    date: str | None = Field(default=None, description="the article's date, when it gives one (YYYY-MM-DD for text "
                                                     "and HTML articles; as given for JSON ones); added to the first "
                                                     "contract")


class AnswerModel(BaseModel):
    """An answer extracted verbatim from the articles, with its citations."""

    found: bool = Field(description="false when the articles do not answer the question")
    answer: str | None = Field(description="the extracted answer, verbatim from `citations[0].text`; "
                                           "null when not found")
    short_answer: str | None = Field(description="the narrowest span inside `answer` that answers, when one "
                                                 "can be picked")
    confidence: float = Field(ge=0.0, le=1.0, description="how likely the answer is right, 0..1")
    citations: list[CitationModel] = Field(description="best first; when not found, the closest passages")
    session_id: str = Field(description="pass it back to ask a follow-up in the same conversation")
    took_ms: float = Field(description="time spent answering, in milliseconds")


class ArticleSummary(BaseModel):
    """An indexed article's metadata."""

    article_id: str = Field(description="the article's id (may contain `/`)")
    title: str
    byline: str | None = Field(description="author(s) or agency, when known")
    date: str | None = Field(description="publication date as found in the article, when known")
    url: str | None = Field(description="the original URL, when known")
    source: str | None = Field(description="the publication or data set it came from, when known")
    paragraph_count: int = Field(description="number of body paragraphs")


class ArticleList(BaseModel):
    """A page of the indexed articles, ordered by id."""

    total: int = Field(description="number of articles in the index")
    offset: int
    limit: int
    articles: list[ArticleSummary]


class ArticleDetail(ArticleSummary):
    """An article with its body paragraphs (indexed by `paragraph_index`)."""

    paragraphs: list[str]


class IndexInfo(BaseModel):
    model: str = Field(description="the embedding model the index was built with")
    dimension: int
    counts: dict[str, int] = Field(description="articles, paragraphs, sentences, passages")
    built_at: str = Field(description="build time, ISO 8601")
    generation: str = Field(description="the live index generation")


class Health(BaseModel):
    """Whether the server can answer, and what from."""

    status: str = Field(description="`ok`, or `no_index` until an index has been built")
    detail: str | None = Field(None, description="what to do when the status is not ok")
    index: IndexInfo | None = None
    uptime_seconds: float


class ErrorModel(BaseModel):
    """Every error response: a message, or for 422 a list of what is wrong with the request."""

    detail: str | list[dict[str, Any]]
