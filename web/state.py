"""The answerer behind the app, or the reason there is none yet; loaded at start-up, reloaded by a poll."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from index.store import IndexMissingError
from qa.settings import Settings

if TYPE_CHECKING:
    from qa.answerer import Answerer

log = logging.getLogger("web")

NO_INDEX = ("No index has been built yet: run `qa index build PATH...` to index some articles. "
            "The server starts answering as soon as the index is ready, without a restart.")
BROKEN_INDEX = ("The index could not be loaded: it is damaged, unfinished or from another version of article-qa "
                "(the server log says which). Rebuild it with `qa index build PATH...`; the server starts "
                "answering from the new index without a restart.")


class IndexNotReady(Exception):
    """Raised by `IndexState.require` when there is nothing to answer from (the routes turn it into 503)."""

    def __init__(self, detail: str = NO_INDEX) -> None:
        super().__init__(detail)
        self.detail = detail


def _load(settings: Settings) -> Answerer:
    from qa.answerer import Answerer

    return Answerer.load(settings)


class IndexState:
    """Holds the one `Answerer` of the app. `refresh()` (blocking: call it from a thread) loads it if there
    was none, or lets it swap in a rebuilt index; the old index keeps serving until the new one is loaded."""

    def __init__(self, settings: Settings, answerer: Answerer | None = None,
                 loader: Callable[[Settings], Answerer] = _load) -> None:
        self.settings = settings
        self.answerer = answerer
        self.loader = loader
        self.started = time.monotonic()
        self.problem: str | None = None
        self.broken = False
        self._lock = threading.Lock()
        self._last_logged: str | None = None
        self._release_again = False

    @property
    def ready(self) -> bool:
        return self.answerer is not None

    def uptime(self) -> float:
        return time.monotonic() - self.started

    @property
    def unavailable(self) -> str:
        """Why there is nothing to answer from, for clients: no index yet, or one that could not be loaded (the
        reason itself, which names paths and internals, stays in the server log)."""
        return BROKEN_INDEX if self.broken else NO_INDEX

    def require(self) -> Answerer:
        answerer = self.answerer
        if answerer is None:
            raise IndexNotReady(self.unavailable)
        return answerer

    def refresh(self) -> bool:
        """Load or reload the index if the manifest names a new one; True when something new is serving."""
        with self._lock:
            try:
                if self.answerer is None:
                    self.answerer = self.loader(self.settings)
                    self._note(None)
                    log.info("index loaded from %s (%s)", self.settings.index_dir,
                             self.answerer.index.reader.manifest.generation)
                    return True
                if self.answerer.reload_if_changed():
                    self._note(None)
                    log.info("index reloaded: now serving %s", self.answerer.index.reader.manifest.generation)
                    _release_memory()
                    self._release_again = True  # requests that held the old index may have ended since
                    return True
                if self._release_again:
                    self._release_again = False
                    _release_memory()
                return False
            except IndexMissingError as exc:
                self._note(str(exc), level=logging.WARNING, broken=exc.built)
            except Exception as exc:  # a half-written or broken index must not stop the server
                self._note(f"could not load the index in {self.settings.index_dir}: {exc!r}",
                           level=logging.ERROR, broken=True)
            return False

    def _note(self, problem: str | None, level: int = logging.INFO, broken: bool = False) -> None:
        """Remember why the index could not be (re)loaded; log each distinct reason once, not every poll."""
        self.problem = problem
        self.broken = broken
        if problem and problem != self._last_logged:
            log.log(level, "%s", problem)
        self._last_logged = problem


def _release_memory() -> None:
    """After a swap: collect the old index and hand its freed memory back to the system. glibc keeps freed
    heap otherwise, and each swap frees a whole index (SQLite, FAISS, BM25, an ONNX session): the server
    grew by ~100 MB over eight rebuilds and kept it."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
