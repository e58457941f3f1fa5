"""A small thread-safe LRU cache bounded by bytes: the same question is never computed twice.

Inside `question()` every entry the thread uses is held: it is not evicted until the question ends, so
a question never evicts its own layers (population, friction, travel times) and computes them twice.
"""
from __future__ import annotations

import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any


def default_budget() -> int:
    """A quarter of the machine's memory, at least 2 GiB."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 0
    return max(2 << 30, physical // 4)


class ResultCache:
    """Least-recently-used results, evicted once their estimated size passes `max_bytes` (held ones excepted)."""

    def __init__(self, max_bytes: int | None = None):
        self.max_bytes = default_budget() if max_bytes is None else max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._total = 0  # the sizes in _items, summed
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._held: Counter[Hashable] = Counter()  # key: how many threads' questions hold it
        self._local = threading.local()

    @contextmanager
    def question(self) -> Iterator[None]:
        """Hold every entry this thread uses until the outermost `question` ends (re-entrant)."""
        local = self._local
        if getattr(local, "keys", None) is not None:
            yield
            return
        local.keys = set()
        try:
            yield
        finally:
            with self._lock:
                self._held.subtract(local.keys)
                self._held += Counter()  # drop zero counts
                local.keys = None
                self._evict()

    def _use(self, key: Hashable) -> None:
        keys = getattr(self._local, "keys", None)
        if keys is not None and key not in keys:
            keys.add(key)
            self._held[key] += 1

    def _evict(self) -> None:
        if self._total <= self.max_bytes:
            return
        for key in list(self._items):
            if self._total <= self.max_bytes or len(self._items) <= 1:
                break
            if key not in self._held:
                self._total -= self._items.pop(key)[1]

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any], size: Callable[[Any], int]) -> Any:
        """The cached value for `key`, computing it once even when several threads ask at the same time."""
        with self._lock:
            self._use(key)
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key][0]
            value = compute()
            with self._lock:
                self._items[key] = (value, size(value))
                self._total += self._items[key][1]
                self._key_locks.pop(key, None)
                self._evict()
            return value

    def get(self, key: Hashable) -> Any | None:
        """The cached value for `key` (held like any other this question uses), or None."""
        with self._lock:
            if key not in self._items:
                return None
            self._use(key)
            self._items.move_to_end(key)
            return self._items[key][0]

    def release(self, *keys: Hashable) -> None:
        """This thread's question is done with `keys`: they stay cached but may be evicted like any other
        (a question frees the layers it no longer needs before it builds the next ones)."""
        local_keys = getattr(self._local, "keys", None)
        with self._lock:
            for key in keys:
                if local_keys is not None and key in local_keys:
                    local_keys.discard(key)
                    self._held[key] -= 1
            self._held += Counter()  # drop zero counts
            self._evict()

    def discard(self, key: Hashable) -> None:
        """Forget `key`'s value (one superseded by another entry that holds the same arrays)."""
        with self._lock:
            self._total -= self._items.pop(key, (None, 0))[1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._total = 0
