"""Idle cores lent to one question at a time: its reads can run side by side while nothing else is asked."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager

MAX_THREADS = 2  # the cascade keeps at most two reads running: the one it waits for and the next


def idle_cores() -> int:
    """The cores this process may use, less the one a question already runs on."""
    return len(os.sched_getaffinity(0)) - 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) - 1


class Spare:
    """Threads for reading ahead, lent to a question only while it is the only one being answered: under load
    every core already has a question of its own, and reading ahead would only add reads nobody waits for."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="read-ahead") if threads > 0 else None
        self._asking = 0
        self._lock = threading.Lock()

    @classmethod
    def for_machine(cls, enabled: bool = True) -> Spare:
        """Reading-ahead threads when the machine has a core to spare and `enabled`, else none."""
        return cls(MAX_THREADS if enabled and idle_cores() > 0 else 0)

    @contextmanager
    def asking(self) -> Iterator[Executor | None]:
        """For the span of one question: the threads, or None while another question is being answered."""
        with self._lock:
            self._asking += 1
            alone = self._asking == 1
        try:
            yield self._pool if alone else None
        finally:
            with self._lock:
                self._asking -= 1
