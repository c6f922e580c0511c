"""One bounded, thread-safe LRU map for the harness's memo tables.

Built on `cachetools.LRUCache`, which evicts by count or by a size function; what it does
not give is a lock (its maps are not thread-safe, and the reference server and the gate's
steps call in from threads) and hit counts for benchmarks, so this adds both.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LockedLRU(Generic[K, V]):
    """`get`/`put` under one lock; `maxsize` counts entries, or `getsizeof` units when given."""

    def __init__(self, maxsize: int, getsizeof: Callable[[V], int] | None = None) -> None:
        self._data: LRUCache[K, V] = LRUCache(maxsize=maxsize, getsizeof=getsizeof)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def maxsize(self) -> int:
        return int(self._data.maxsize)

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
            return value

    def put(self, key: K, value: V) -> None:
        """Keep `value`; one larger than the whole cache is simply not kept."""
        with self._lock, contextlib.suppress(ValueError):  # cachetools: larger than the whole cache
            self._data[key] = value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0
