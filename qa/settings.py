"""The one configuration object: environment variables `QA_*`, overridden by CLI flags."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.export import DEFAULT_MODEL
from qa.scoring import WEIGHTS_FILE


class Settings(BaseSettings):
    """Everything configurable, read once at the edge (CLI or server start) and passed down."""

    model_config = SettingsConfigDict(env_prefix="QA_", protected_namespaces=(), env_ignore_empty=True)

    index_dir: Path = Field(Path("var/index"), description="where the index lives")
    model: str = Field(DEFAULT_MODEL, min_length=1, description="sentence-transformers model name or path (build time)")
    build_int8: bool = Field(False, description="embed passages with the int8 copy of the encoder graph at build time: "
                             "about 2x faster builds (BENCHMARKS.md, Build, with the answers it costs); updates "
                             "embed as the index was built")
    cache_dir: Path = Field(Path.home() / ".cache" / "article-qa", description="exported ONNX encoders")
    query_int8: bool = Field(True, description="encode questions with an int8 copy of the index's encoder graph "
                             "(made once into cache_dir): 2.4x faster (BENCHMARKS.md floors), cosine 0.995 median to "
                             "fp32, answers as good on SQuAD and BBC")
    read_ahead: bool = Field(True, description="while only one question is being answered, read its next answer "
                             "candidate on an idle core as the first is read: same answers, lower latency")
    answer_threshold: float | None = Field(None, ge=0.0, le=1.0, description="the confidence an answer needs to be "
                                           "given (`found`); default: the one fitted into weights_file. Lower answers "
                                           "more of the questions the articles answer and more of those they do not "
                                           "(BENCHMARKS.md: the answering threshold)")
    weights_file: Path = Field(WEIGHTS_FILE, description="ranking and confidence weights (benchmarks/tune.py "
                               "writes them; the shipped ones are fitted on SQuAD and news tuning questions)")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_token: str | None = Field(None, description="when set, /api/* requires `Authorization: Bearer <token>`")
    max_question_chars: int = Field(1000, ge=1)
    max_body_bytes: int = Field(16_384, ge=1)
    max_concurrent_requests: int = Field(32, ge=1)
    request_timeout_seconds: float = Field(10.0, gt=0)
    session_ttl_seconds: float = Field(3600.0, gt=0)
    max_sessions: int = Field(10_000, ge=1)
    reload_check_seconds: float = Field(1.0, gt=0)
