"""Frontiers: the order in which the search expands stored states.

A frontier holds store indices.  ``push`` and ``pop`` are bound methods of the underlying
container, so the search loop calls straight into C.  One search loop serves every frontier.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol


class Frontier(Protocol):
    """What the search needs from a frontier."""

    name: str
    push: Callable[[int], None]
    pop: Callable[[], int]

    def __len__(self) -> int: ...


class BfsFrontier:
    """First in, first out: breadth-first search, shortest counterexamples."""

    name = "bfs"

    def __init__(self) -> None:
        self._items: deque[int] = deque()
        self.push: Callable[[int], None] = self._items.append
        self.pop: Callable[[], int] = self._items.popleft

    def __len__(self) -> int:
        return len(self._items)


class DfsFrontier:
    """Last in, first out: depth-first search (states expanded in reverse discovery order)."""

    name = "dfs"

    def __init__(self) -> None:
        self._items: list[int] = []
        self.push: Callable[[int], None] = self._items.append
        self.pop: Callable[[], int] = self._items.pop

    def __len__(self) -> int:
        return len(self._items)


FRONTIERS: dict[str, Callable[[], Frontier]] = {"bfs": BfsFrontier, "dfs": DfsFrontier}


def make_frontier(strategy: str) -> Frontier:
    """A new empty frontier for ``"bfs"`` or ``"dfs"``."""
    try:
        return FRONTIERS[strategy]()
    except KeyError:
        raise ValueError(f"unknown search strategy {strategy!r}") from None
