"""The receiver's memory of accepted deliveries, so that a replay runs no handler twice."""

from __future__ import annotations

import heapq


class Deliveries:
    """Digests of accepted messages, each with the wall-clock time it may be forgotten."""

    def __init__(self) -> None:
        self._until: dict[bytes, float] = {}
        self._heap: list[tuple[float, bytes]] = []

    def __contains__(self, digest: bytes) -> bool:
        return digest in self._until

    def __len__(self) -> int:
        return len(self._until)

    def remember(self, digest: bytes, until: float) -> None:
        if self._until.get(digest, until - 1) < until:
            self._until[digest] = until
            heapq.heappush(self._heap, (until, digest))

    def forget(self, digest: bytes) -> None:
        self._until.pop(digest, None)

    def forget_expired(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] < now:
            until, digest = heapq.heappop(heap)
            if self._until.get(digest) == until:
                del self._until[digest]
