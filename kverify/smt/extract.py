"""Turn what z3 found into a :class:`~kverify.trace.model.Trace` the explicit engine confirms.

z3 only tells which step fired at each position of the unrolling (and the start state); the
states are rebuilt by running those steps through the compiled Python of the explicit engine,
the violation is found the way the explicit search finds it, and the trace is replayed before
it is returned.  A step that does not fire, or a run that shows no violation, means the two
interpretations of the IR disagree: that is a bug of kverify and raises
:class:`EncodingMismatch`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

from kverify.explore.compile import CompiledSystem, ModelError, StepFailure
from kverify.ir.system import State, TransitionSystem
from kverify.result import Violation
from kverify.trace.build import build_trace
from kverify.trace.model import Trace, TraceViolation
from kverify.trace.replay import has_enabled_step, replay


class EncodingMismatch(AssertionError):
    """The z3 encoding and the compiled steps disagree on a run (a kverify bug)."""


def run_steps(compiled: CompiledSystem, start: State, tids: Sequence[int]) -> list[tuple[int, State]]:
    """Fire ``tids`` in order from ``start``; every step must run to its end."""
    path: list[tuple[int, State]] = []
    state = start
    for tid in tids:
        label = compiled.system.transitions[tid].label
        if (
            state[compiled.pc_slots[compiled.system.transitions[tid].pid]]
            != compiled.system.transitions[tid].pc_from
        ):
            raise EncodingMismatch(f"step {len(path) + 1}: `{label}` is not at its start")
        try:
            nxt = compiled.steps[tid](state)
        except StepFailure as exc:
            raise EncodingMismatch(f"step {len(path) + 1}: `{label}` fails: {exc.message}") from exc
        if nxt is None:
            raise EncodingMismatch(f"step {len(path) + 1}: `{label}` is disabled")
        path.append((tid, nxt))
        state = nxt
    return path


def failing_step(
    compiled: CompiledSystem, state: State, wanted: Collection[str]
) -> tuple[int, TraceViolation, State]:
    """The first step (in the explicit search's order) that stops in ``state`` with one of
    ``wanted`` violated: its number, the violation and the state it stops in."""
    system = compiled.system
    kinds = {p.name: p.kind for p in system.properties}
    for tid, step in compiled.candidates(state):
        try:
            step(state)
        except StepFailure as exc:
            if exc.prop not in wanted:
                continue
            t = system.transitions[tid]
            kind = kinds.get(exc.prop, "model-error" if isinstance(exc, ModelError) else "assert")
            message = f"{exc.message} (at `{t.label}`, {t.source.file}:{t.source.line})"
            reached = exc.state if exc.state is not None else state
            return tid, TraceViolation(exc.prop, kind, message), reached
    raise EncodingMismatch(f"no step fails {sorted(wanted)} here")


def state_violations(compiled: CompiledSystem, state: State) -> list[TraceViolation]:
    """The violations the explicit search records for ``state``, in its order."""
    system = compiled.system
    found: list[TraceViolation] = []
    for name, pred in compiled.invariants:
        try:
            ok = pred(state)
        except ModelError as exc:
            found.append(TraceViolation("model-error", "model-error", f"{exc.message} (evaluating {name})"))
            continue
        if not ok:
            found.append(TraceViolation(name, "invariant", _describe(system, name)))
    if found or has_enabled_step(compiled, state):
        return found
    for name, pred in compiled.finals:
        try:
            ok = pred(state)
        except ModelError as exc:
            found.append(TraceViolation("model-error", "model-error", f"{exc.message} (evaluating {name})"))
            continue
        if not ok:
            found.append(TraceViolation(name, "final", _describe(system, name)))
    if system.check_deadlock and not compiled.done(state):
        found.append(TraceViolation("deadlock", "deadlock", stuck(system, state)))
    return found


def _describe(system: TransitionSystem, name: str) -> str:
    try:
        prop = system.property(name)
    except KeyError:
        return f"{name} is false"
    return prop.description or f"{name} is false"


def stuck(system: TransitionSystem, state: State) -> str:
    """Which processes are stuck, and at which statements."""
    parts = []
    table = system.by_process()
    for p in system.processes:
        pc = state[p.pc_slot]
        if p.daemon or pc == p.end_pc:
            continue
        labels = [f"`{t.label}` ({t.source.file}:{t.source.line})" for t in table[p.pid].get(pc, [])]
        where = " or ".join(labels) if labels else f"pc {pc}"
        parts.append(f"{p.name} at {where}")
    return "no process can move: " + "; ".join(parts)


def confirmed_trace(
    compiled: CompiledSystem,
    start: State,
    tids: Sequence[int],
    wanted: Collection[str],
    *,
    failing: bool,
) -> Violation:
    """The violation of one of ``wanted`` at the end of the run ``start``, ``tids`` (or, when
    ``failing``, by one more step that stops in the middle), as a replayed trace.  ``start``
    need not be an initial state (a counterexample to induction); the replay then starts
    from it."""
    path = run_steps(compiled, start, tids)
    state = path[-1][1] if path else start
    if failing:
        tid, violation, reached = failing_step(compiled, state, wanted)
        path.append((tid, reached))
        partial = True
    else:
        violation = _first(state_violations(compiled, state), wanted)
        partial = False
    if violation.prop not in wanted:
        raise EncodingMismatch(f"the run violates {violation.prop}, not one of {sorted(wanted)}")
    trace = build_trace(compiled.system, start, path, violation, partial_last=partial)
    check_replays(compiled, trace)
    return Violation(violation.prop, violation.kind, violation.message, trace)


def confirmed_run(
    compiled: CompiledSystem, start: State, tids: Sequence[int], wanted: Collection[str]
) -> Violation:
    """Like :func:`confirmed_trace`, for a run known to end in a violation of one of
    ``wanted`` without knowing whether it is the last state's or a failing step's."""
    path = run_steps(compiled, start, tids)
    state = path[-1][1] if path else start
    in_state = any(v.prop in wanted for v in state_violations(compiled, state))
    return confirmed_trace(compiled, start, tids, wanted, failing=not in_state)


def _first(found: list[TraceViolation], wanted: Collection[str]) -> TraceViolation:
    for v in found:
        if v.prop in wanted:
            return v
    raise EncodingMismatch(
        f"the run ends in no violation of {sorted(wanted)} (found {[v.prop for v in found]})"
    )


def check_replays(compiled: CompiledSystem, trace: Trace) -> None:
    """Replay ``trace`` on the explicit engine (from its own start state)."""
    system = compiled.system
    if trace.initial not in system.initial_states:
        system = dataclasses.replace(system, initial_states=(trace.initial,))
    replay(system, compiled, trace)
