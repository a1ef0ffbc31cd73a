"""Counterexample simplification: among the shortest counterexamples, one with the fewest
context switches (consecutive steps by different processes), the form kernel readers want.

A post-pass over a found violation.  It explores breadth-first again, layer by layer, from the
initial states, on pairs (state, process that made the last step): a state is kept only in
the layer where it is first reached, so every path it builds is a shortest path; within a
layer each pair keeps its fewest switches so far.  At the first layer where the violation
shows (or, for a failing ``assert``, where a step fails it) the pair with the fewest switches
wins; ties go to the first found, so the result is deterministic.  Like the search, it never
expands a state that violates an invariant.  The cost is one more breadth-first pass up to the
counterexample's depth, with up to one entry per process for every state.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from kverify.explore.compile import CompiledSystem, ModelError, StepFailure
from kverify.ir.system import State
from kverify.result import Result, Violation
from kverify.trace.build import build_trace
from kverify.trace.model import Trace, TraceViolation
from kverify.trace.replay import replay, violation_shows

NONE = -1  # "no step yet": the first step is never a switch
Node = tuple[State, int]  # (state, pid of the last step)
Parent = tuple[Node, int]  # (previous node, transition id)


def context_switches(trace: Trace) -> int:
    """How many times the trace passes from one process to another."""
    pids = [step.pid for step in trace.steps]
    return sum(1 for a, b in pairwise(pids) if a != b)


def with_fewest_switches(compiled: CompiledSystem, result: Result) -> Result:
    """``result`` with each violation's trace replaced by a shortest one with fewest switches."""
    changed = []
    notes = list(result.notes)
    for violation in result.violations:
        better = fewest_switches(compiled, violation)
        if better is not violation and better.trace is not None and violation.trace is not None:
            notes.append(
                f"{violation.prop}: trace with {context_switches(better.trace)} context switches "
                f"(the search found one with {context_switches(violation.trace)})"
            )
        changed.append(better)
    return replace(result, violations=tuple(changed), notes=tuple(notes))


def fewest_switches(compiled: CompiledSystem, violation: Violation) -> Violation:
    """A violation of the same property whose trace is shortest and has fewest switches."""
    trace = violation.trace
    if trace is None or trace.loop is not None:
        return violation
    found = _search(compiled, trace)
    if found is None or context_switches(found) >= context_switches(trace):
        return violation
    replay(compiled.system, compiled, found)
    return Violation(violation.prop, violation.kind, violation.message, found)


def _search(compiled: CompiledSystem, trace: Trace) -> Trace | None:
    violation = trace.violation
    assert violation is not None
    failing = bool(trace.steps) and trace.steps[-1].partial
    depth = len(trace.steps) - (1 if failing else 0)
    system = compiled.system
    seen: set[State] = set(system.initial_states)
    layer: dict[State, dict[int, int]] = {s: {NONE: 0} for s in system.initial_states}
    parents: dict[Node, Parent] = {}
    for k in range(depth + 1):
        hit = (
            _failing_target(compiled, layer, violation)
            if failing
            else _state_target(compiled, layer, violation)
        )
        if hit is not None:
            return _trace(compiled, hit, parents, violation)
        if k == depth:
            return None
        layer = _expand(compiled, layer, seen, parents)
    return None


def _expand(
    compiled: CompiledSystem,
    layer: dict[State, dict[int, int]],
    seen: set[State],
    parents: dict[Node, Parent],
) -> dict[State, dict[int, int]]:
    transitions = compiled.system.transitions
    nxt: dict[State, dict[int, int]] = {}
    for state, costs in layer.items():
        if _violates(compiled, state):
            continue
        for tid, step in compiled.candidates(state):
            try:
                after = step(state)
            except StepFailure:
                continue
            if after is None or after in seen:
                continue
            pid = transitions[tid].pid
            best = nxt.setdefault(after, {})
            for last, cost in costs.items():
                total = cost + (1 if last not in (NONE, pid) else 0)
                if pid not in best or total < best[pid]:
                    best[pid] = total
                    parents[(after, pid)] = ((state, last), tid)
    seen.update(nxt)
    return nxt


def _violates(compiled: CompiledSystem, state: State) -> bool:
    for _name, pred in compiled.invariants:
        try:
            if not pred(state):
                return True
        except ModelError:
            return True
    return False


Hit = tuple[Node, int, tuple[int, State] | None]  # node, switches, failing last step


def _state_target(
    compiled: CompiledSystem, layer: dict[State, dict[int, int]], violation: TraceViolation
) -> Hit | None:
    best: Hit | None = None
    for state, costs in layer.items():
        if not violation_shows(compiled, state, violation):
            continue
        last, cost = min(costs.items(), key=lambda item: item[1])
        if best is None or cost < best[1]:
            best = ((state, last), cost, None)
    return best


def _failing_target(
    compiled: CompiledSystem, layer: dict[State, dict[int, int]], violation: TraceViolation
) -> Hit | None:
    transitions = compiled.system.transitions
    best: Hit | None = None
    for state, costs in layer.items():
        if _violates(compiled, state):
            continue
        for tid, step in compiled.candidates(state):
            try:
                step(state)
            except StepFailure as exc:
                if exc.prop != violation.prop:
                    continue
                pid = transitions[tid].pid
                for last, cost in costs.items():
                    total = cost + (1 if last not in (NONE, pid) else 0)
                    if best is None or total < best[1]:
                        reached = exc.state if exc.state is not None else state
                        best = ((state, last), total, (tid, reached))
    return best


def _trace(
    compiled: CompiledSystem, hit: Hit, parents: dict[Node, Parent], violation: TraceViolation
) -> Trace:
    node, _cost, last = hit
    path: list[tuple[int, State]] = []
    while node in parents:
        previous, tid = parents[node]
        path.append((tid, node[0]))
        node = previous
    path.reverse()
    if last is not None:
        path.append(last)
    return build_trace(compiled.system, node[0], path, violation, partial_last=last is not None)
