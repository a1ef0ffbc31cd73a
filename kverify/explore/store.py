"""The visited-state store: packed states, their index, and parent links for traces.

Each stored state gets a dense index.  ``index`` maps the packed bytes to it; ``packed`` holds
the bytes in index order; ``parent``, ``via`` and ``depth`` are compact int arrays giving the
state it was first reached from, the transition taken, and its distance from an initial state.
Walking ``parent`` back from any index rebuilds the path to it.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable

from kverify.ir.system import State

NO_PARENT = -1


class StateStore:
    """Visited set with parent links.  States are stored packed (``struct`` bytes)."""

    def __init__(self) -> None:
        self.index: dict[bytes, int] = {}
        self.packed: list[bytes] = []
        self.parent: array[int] = array("i")
        self.via: array[int] = array("i")
        self.depth: array[int] = array("i")

    def __len__(self) -> int:
        return len(self.packed)

    def __contains__(self, key: bytes) -> bool:
        return key in self.index

    def add(self, key: bytes, parent: int, via: int, depth: int) -> int:
        """Store a new packed state; return its index, or -1 if it was already stored."""
        if key in self.index:
            return -1
        n = len(self.packed)
        self.index[key] = n
        self.packed.append(key)
        self.parent.append(parent)
        self.via.append(via)
        self.depth.append(depth)
        return n

    def path(self, n: int) -> tuple[int, list[tuple[int, int]]]:
        """(root index, [(transition id, index reached)...]) leading to state ``n``."""
        steps: list[tuple[int, int]] = []
        while self.parent[n] != NO_PARENT:
            steps.append((self.via[n], n))
            n = self.parent[n]
        steps.reverse()
        return n, steps

    def bytes_per_state(self) -> float:
        """Memory per stored state, measured with ``sys.getsizeof``.

        Counts the bytes objects (all states pack to the same length, so one is measured),
        the int object of each index above the small-int cache, the dict (hash table) and list
        (pointer array) of the store, and the three int arrays.  Interpreter overhead shared
        with other objects is not counted.
        """
        count = len(self.packed)
        if count == 0:
            return 0.0
        per_bytes = sys.getsizeof(self.packed[0])
        ints = max(count - 257, 0) * sys.getsizeof(2**20)
        tables = sys.getsizeof(self.index) + sys.getsizeof(self.packed)
        arrays = sum(a.buffer_info()[1] * a.itemsize for a in (self.parent, self.via, self.depth))
        return (count * per_bytes + ints + tables + arrays) / count

    def unpack_all(self, unpack: Callable[[bytes], State]) -> set[State]:
        """Every stored state, unpacked with ``unpack`` (for tests and small models)."""
        return {unpack(key) for key in self.packed}
