"""Idle cores lent to a question's reads while it is the only question this process is answering."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from index.encoder import usable_cores

T = TypeVar("T")
MAX_THREADS = 2  # the cascade keeps at most two reads running: the one it waits for and the next


def idle_cores() -> int:
    """The cores this process may run on, less the one a question already runs on (CPU quotas of a container
    are not seen: set `QA_READ_AHEAD=0` there when the quota is one core)."""
    return usable_cores() - 1


class Spare:
    """Threads for reading ahead, lent only while one question is being answered (`asking` counts them): under
    load every core already has a question of its own, and reading ahead would only add reads nobody waits for.
    The count is this process's: with several server processes, turn reading ahead off (`QA_READ_AHEAD=0`)."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="read-ahead") if threads > 0 else None
        self._asking = 0
        self._lock = threading.Lock()

    @classmethod
    def for_machine(cls, enabled: bool = True) -> Spare:
        """Reading-ahead threads when the machine has a core to spare and `enabled`, else none."""
        return cls(MAX_THREADS if enabled and idle_cores() > 0 else 0)

    @contextmanager
    def asking(self) -> Iterator[None]:
        """Count one question being answered for the span of the block."""
        with self._lock:
            self._asking += 1
        try:
            yield
        finally:
            with self._lock:
                self._asking -= 1

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T] | None:
        """`fn(*args)` started on a spare thread, or None when there is none to lend: no threads, or another
        question (or none: a call outside `asking`) is being answered now."""
        with self._lock:
            alone = self._asking == 1
        return self._pool.submit(fn, *args) if alone and self._pool is not None else None
