"""Static independence of transitions, from their read/write sets.

Two transitions are *dependent* when they belong to the same process (both write its pc) or
one writes a slot the other reads or writes.  Otherwise they are independent in every state:
neither can enable, disable or change what the other does, and firing both in either order
reaches the same state (``kverify check --audit-por`` tests this premise state by state).

A transition is *visible* when it writes a slot that an invariant reads: reordering it may
change which states an invariant is evaluated in, so the reductions never move one.

The explicit engine's stubborn sets (:mod:`kverify.explore.por`) are built on these relations.
"""

from __future__ import annotations

from kverify.ir.expr import expr_reads
from kverify.ir.system import TransitionSystem


def dependence(system: TransitionSystem) -> list[frozenset[int]]:
    """For each transition, the transitions it is dependent on (itself included)."""
    writers: dict[int, set[int]] = {}
    touchers: dict[int, set[int]] = {}
    by_pid: dict[int, set[int]] = {}
    for t in system.transitions:
        by_pid.setdefault(t.pid, set()).add(t.tid)
        for slot in t.writes:
            writers.setdefault(slot, set()).add(t.tid)
            touchers.setdefault(slot, set()).add(t.tid)
        for slot in t.reads:
            touchers.setdefault(slot, set()).add(t.tid)
    out = []
    for t in system.transitions:
        dep = set(by_pid[t.pid])
        for slot in t.writes:
            dep |= touchers.get(slot, set())
        for slot in t.reads:
            dep |= writers.get(slot, set())
        out.append(frozenset(dep))
    return out


def invariant_reads(system: TransitionSystem) -> frozenset[int]:
    """The slots some invariant reads."""
    seen: set[int] = set()
    for prop in system.properties:
        if prop.kind == "invariant" and prop.expr is not None:
            seen |= expr_reads(prop.expr)
    return frozenset(seen)


def visible(system: TransitionSystem) -> list[bool]:
    """For each transition, whether it writes a slot an invariant reads."""
    seen = invariant_reads(system)
    return [bool(t.writes & seen) for t in system.transitions]
