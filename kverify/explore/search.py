"""The explicit-state search: one loop, the frontier and the store passed in.

``search`` pops a state, checks the invariants on it, fires every step whose process sits at
the step's start pc, and stores the new successors.  A state that violates a property is
recorded (the first violation of each property, with its trace) and not expanded; the search
goes on so every property gets a verdict.  A state with no enabled step is checked for
deadlock and against the ``final`` properties.  Limits end the search with an ``incomplete``
verdict and the statistics so far, never an exception; so does Ctrl-C.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

from kverify.errors import KverifyError
from kverify.explore.compile import CompiledSystem, ModelError, StepFailure
from kverify.explore.frontier import BfsFrontier, Frontier
from kverify.explore.por import StubbornSets
from kverify.explore.store import NO_PARENT, StateStore
from kverify.ir.system import State
from kverify.result import Result, Stats, Verdict, Violation
from kverify.trace.build import build_trace
from kverify.trace.model import Trace, TraceViolation

CLOCK_EVERY = 1024  # states expanded between two looks at the clock (a power of two)
PROGRESS_EVERY = 16 * CLOCK_EVERY  # states expanded between two progress reports


@dataclass(frozen=True)
class Limits:
    """Bounds on a search; None means unbounded.

    ``max_states`` caps the stored states, ``max_depth`` the distance from an initial state of
    the states that are expanded, ``time_limit`` the seconds spent searching.
    """

    max_states: int | None = None
    max_depth: int | None = None
    time_limit: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_states", "max_depth", "time_limit"):
            value = getattr(self, name)
            if value is not None and value < 0:
                flag = "--" + name.replace("_", "-")
                raise KverifyError(f"{flag} must not be negative (got {value})")


class Observer(Protocol):
    """Receives progress reports while a search runs (e.g. a progress line on a terminal)."""

    def progress(self, stats: Stats) -> None:
        """Called every few thousand expanded states with the statistics so far."""


class _Stop(Exception):
    """Raised inside the loop when a limit ends the search; carries the reason."""


def search(
    compiled: CompiledSystem,
    limits: Limits | None = None,
    observer: Observer | None = None,
    *,
    frontier: Frontier | None = None,
    store: StateStore | None = None,
    por: bool = False,
) -> Result:
    """Explore the reachable states of ``compiled`` and return the :class:`Result`.

    The frontier defaults to breadth-first (shortest counterexamples); pass a
    :class:`~kverify.explore.frontier.DfsFrontier` for depth-first.  Pass a ``store`` to look
    at the visited states afterwards.
    """
    run = _Search(
        compiled,
        limits or Limits(),
        observer,
        frontier if frontier is not None else BfsFrontier(),
        store if store is not None else StateStore(),
        StubbornSets(compiled.system) if por else None,
    )
    if por and not isinstance(run.frontier, BfsFrontier):
        raise KverifyError(
            "partial-order reduction needs the breadth-first search",
            hint="drop --strategy dfs, or add --no-por",
        )
    return run.run()


class _Search:
    """The state of one search run: what it found and how far it got."""

    def __init__(
        self,
        compiled: CompiledSystem,
        limits: Limits,
        observer: Observer | None,
        frontier: Frontier,
        store: StateStore,
        reducer: StubbornSets | None = None,
    ) -> None:
        self.compiled = compiled
        self.system = compiled.system
        self.limits = limits
        self.observer = observer
        self.frontier = frontier
        self.store = store
        self.found: dict[str, Violation] = {}
        self.kinds = {p.name: p.kind for p in self.system.properties}
        self.transitions = 0
        self.truncated = False  # a state at max_depth had successors that were not stored
        self.started = 0.0
        self.reducer = reducer

    def _reduce(
        self, state: State, depth: int, successors: list[tuple[int, State]], failed: list[int]
    ) -> list[tuple[int, bytes]]:
        """The packed successors of a stubborn set, or of every enabled step (visibility, the
        cycle proviso).  Every enabled step was fired already, so a failing check of any of
        them is found in this state; a step that fails is enabled too, and the set must
        account for it."""
        assert self.reducer is not None
        stats, index, depths = self.reducer.stats, self.store.index, self.store.depth
        pack = self.compiled.packer.pack
        chosen = self.reducer.choose(state, (*(tid for tid, _ in successors), *failed), tuple(failed))
        if chosen is not None:
            kept = [(tid, pack(*nxt)) for tid, nxt in successors if tid in chosen]
            if not any(depths[index[key]] <= depth for _, key in kept if key in index):
                stats.reduced += 1
                stats.pruned += len(successors) - len(kept)
                return kept
            stats.proviso += 1  # a kept successor may close a cycle: expand in full
        stats.full += 1
        return [(tid, pack(*nxt)) for tid, nxt in successors]

    # ------------------------------------------------------------------ driver

    def run(self) -> Result:
        self.started = time.perf_counter()
        reason = ""
        try:
            self._seed()
            self._explore()
        except _Stop as stop:
            reason = str(stop)
        except KeyboardInterrupt:
            reason = "interrupted"
        if not reason and self.truncated:
            reason = f"max-depth limit {self.limits.max_depth} reached"
        return self._result(reason, time.perf_counter() - self.started)

    def _seed(self) -> None:
        pack = self.compiled.packer.pack
        cap = _cap(self.limits.max_states)
        for state in self.system.initial_states:
            key = pack(*state)
            if key in self.store:
                continue
            if len(self.store) >= cap:
                raise _Stop(f"max-states limit {cap} reached")
            self.frontier.push(self.store.add(key, NO_PARENT, -1, 0))

    # ------------------------------------------------------------------ the hot loop

    def _explore(self) -> None:
        compiled, store, frontier = self.compiled, self.store, self.frontier
        index, packed = store.index, store.packed
        add_parent, add_via, add_depth = (
            store.parent.append,
            store.via.append,
            store.depth.append,
        )
        depths = store.depth
        pack, unpack = compiled.packer.pack, compiled.packer.unpack
        push, pop = frontier.push, frontier.pop
        tables = tuple(zip(compiled.pc_slots, compiled.by_pc))
        invariants = tuple(compiled.invariants)
        max_states = _cap(self.limits.max_states)
        max_depth = _cap(self.limits.max_depth)
        deadline = self.started + (self.limits.time_limit if self.limits.time_limit is not None else math.inf)
        clock = time.perf_counter
        reduce = self._reduce if self.reducer is not None else None
        transitions = 0
        expanded = 0
        try:
            while frontier:
                i = pop()
                state = unpack(packed[i])
                expanded += 1
                if not expanded % CLOCK_EVERY:
                    self.transitions = transitions
                    self._tick(clock(), deadline, expanded, depths[i])
                if invariants and self._violates(i, state, invariants):
                    continue
                successors: list[tuple[int, State]] = []
                failed: list[int] = []  # enabled steps that fail (no successor, still enabled)
                for slot, table in tables:
                    for tid, step in table.get(state[slot], ()):
                        try:
                            nxt = step(state)
                        except StepFailure as exc:
                            failed.append(tid)
                            self._record_failure(i, tid, state, exc)
                            continue
                        if nxt is not None:
                            successors.append((tid, nxt))
                if not (successors or failed):
                    self._check_terminal(i, state)
                    continue
                d = depths[i]
                if d >= max_depth:
                    self.truncated = True
                    continue
                if reduce is not None and len(successors) + len(failed) > 1:
                    keyed = reduce(state, d, successors, failed)
                else:
                    keyed = [(tid, pack(*nxt)) for tid, nxt in successors]
                transitions += len(keyed)
                nd = d + 1
                for tid, key in keyed:
                    if key not in index:
                        n = len(packed)
                        if n >= max_states:
                            raise _Stop(f"max-states limit {max_states} reached")
                        index[key] = n
                        packed.append(key)
                        add_parent(i)
                        add_via(tid)
                        add_depth(nd)
                        push(n)
        finally:
            self.transitions = transitions

    def _tick(self, now: float, deadline: float, expanded: int, depth: int) -> None:
        if now >= deadline:
            raise _Stop(f"time limit {self.limits.time_limit:g}s reached")
        if self.observer is not None and not expanded % PROGRESS_EVERY:
            self.observer.progress(self._stats(now - self.started, depth=depth))

    # ------------------------------------------------------------------ property checks

    def _violates(self, i: int, state: State, invariants: tuple[tuple[str, object], ...]) -> bool:
        bad = False
        for name, pred in invariants:
            try:
                ok = pred(state)  # type: ignore[operator]
            except ModelError as exc:
                self._record(i, "model-error", f"{exc.message} (evaluating {name})")
                bad = True
                continue
            if not ok:
                self._record(i, name, self._describe(name))
                bad = True
        return bad

    def _check_terminal(self, i: int, state: State) -> None:
        for name, pred in self.compiled.finals:
            try:
                ok = pred(state)
            except ModelError as exc:
                self._record(i, "model-error", f"{exc.message} (evaluating {name})")
                continue
            if not ok:
                self._record(i, name, self._describe(name))
        if self.system.check_deadlock and not self.compiled.done(state):
            self._record(i, "deadlock", self._stuck(state), kind="deadlock")

    def _describe(self, name: str) -> str:
        try:
            prop = self.system.property(name)
        except KeyError:
            return f"{name} is false"
        return prop.description or f"{name} is false"

    def _stuck(self, state: State) -> str:
        """Which processes are stuck, and at which statements."""
        parts = []
        table = self.system.by_process()
        for p in self.system.processes:
            pc = state[p.pc_slot]
            if p.daemon or pc == p.end_pc:
                continue
            labels = [f"`{t.label}` ({t.source.file}:{t.source.line})" for t in table[p.pid].get(pc, [])]
            where = " or ".join(labels) if labels else f"pc {pc}"
            parts.append(f"{p.name} at {where}")
        return "no process can move: " + "; ".join(parts)

    # ------------------------------------------------------------------ recording

    def _record(self, i: int, prop: str, message: str, kind: str = "") -> None:
        if prop in self.found:
            return
        kind = kind or self.kinds.get(prop, "model-error" if prop == "model-error" else "invariant")
        trace = self._trace(i, TraceViolation(prop, kind, message))
        self.found[prop] = Violation(prop, kind, message, trace)

    def _record_failure(self, i: int, tid: int, state: State, exc: StepFailure) -> None:
        if exc.prop in self.found:
            return
        kind = self.kinds.get(exc.prop, "model-error" if isinstance(exc, ModelError) else "assert")
        reached = exc.state if exc.state is not None else state
        t = self.system.transitions[tid]
        message = f"{exc.message} (at `{t.label}`, {t.source.file}:{t.source.line})"
        violation = TraceViolation(exc.prop, kind, message)
        trace = self._trace(i, violation, last=(tid, reached))
        self.found[exc.prop] = Violation(exc.prop, kind, message, trace)

    def _trace(self, i: int, violation: TraceViolation, last: tuple[int, State] | None = None) -> Trace:
        unpack = self.compiled.packer.unpack
        root, links = self.store.path(i)
        path = [(tid, unpack(self.store.packed[n])) for tid, n in links]
        if last is not None:
            path.append(last)
        initial = unpack(self.store.packed[root])
        return build_trace(self.system, initial, path, violation, partial_last=last is not None)

    # ------------------------------------------------------------------ result

    def _stats(self, seconds: float, depth: int | None = None) -> Stats:
        """Statistics so far; ``depth`` given means a cheap progress report (no measuring)."""
        store = self.store
        return Stats(
            states=len(store),
            transitions=self.transitions,
            max_depth=max(store.depth, default=0) if depth is None else depth,
            seconds=seconds,
            bytes_per_state=store.bytes_per_state() if depth is None else 0.0,
            extra=self._extra(),
        )

    def _extra(self) -> dict[str, object]:
        extra: dict[str, object] = {"queue": len(self.frontier)}
        if self.reducer is not None:
            st = self.reducer.stats
            extra["por"] = {
                "reduced_states": st.reduced,
                "full_states": st.full,
                "proviso": st.proviso,
                "visible": st.visible,
                "pruned_steps": st.pruned,
            }
        return extra

    def _result(self, reason: str, seconds: float) -> Result:
        open_verdict = Verdict.INCOMPLETE if reason else Verdict.HOLDS
        properties = {p.name: open_verdict for p in self.system.properties}
        for name in self.found:
            properties[name] = Verdict.VIOLATED
        verdict = Verdict.VIOLATED if self.found else open_verdict
        return Result(
            spec=self.system.name,
            variant=self.system.variant,
            verdict=verdict,
            stats=self._stats(seconds),
            properties=properties,
            violations=tuple(self.found.values()),
            reason=reason,
            notes=self.system.notes,
            engine=f"explicit-{self.frontier.name}",
        )


def _cap(limit: float | None) -> int:
    return int(limit) if limit is not None else 1 << 62
