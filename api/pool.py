"""Heavy work (analyses, renders, route solving) runs at most `workers` at a time with at most `queue` waiting;
past that the service answers 503 with Retry-After, while cheap requests (items, cached tiles) never wait here."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException

from geo_justice.cancel import checkpoint

T = TypeVar("T")
WORKERS_ENV, QUEUE_ENV = "GEO_JUSTICE_WORKERS", "GEO_JUSTICE_QUEUE"


class HeavyPool:
    """A bounded set of slots for heavy work, with a bounded queue in front of it."""

    def __init__(self, workers: int = 2, queue: int = 8, retry_after: int = 5):
        if workers < 1 or queue < 0:
            raise ValueError(f"heavy work needs at least 1 worker and a queue of 0 or more, not {workers} and {queue}")
        self.workers, self.queue, self.retry_after = workers, queue, retry_after
        self._slots = threading.Semaphore(workers)
        self._lock = threading.Lock()
        self.admitted = 0
        self.running = 0

    def run(self, work: Callable[[], T]) -> T:
        """`work()` once a slot is free; 503 at once when every slot and queue place is taken."""
        with self._lock:
            if self.admitted >= self.workers + self.queue:
                raise HTTPException(503, f"the service is busy ({self.workers} heavy requests running, {self.queue} "
                                         f"waiting); try again in {self.retry_after} s",
                                    headers={"Retry-After": str(self.retry_after)})
            self.admitted += 1
        try:
            while not self._slots.acquire(timeout=0.2):
                checkpoint()  # a client that leaves the queue frees its place
            try:
                with self._lock:
                    self.running += 1
                checkpoint()
                return work()
            finally:
                with self._lock:
                    self.running -= 1
                self._slots.release()
        finally:
            with self._lock:
                self.admitted -= 1

    def load(self) -> dict:
        with self._lock:
            return {"running": self.running, "queued": self.admitted - self.running, "workers": self.workers,
                    "queue_limit": self.queue}
