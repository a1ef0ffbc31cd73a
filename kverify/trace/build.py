"""Build a :class:`Trace` from a transition system and the (transition id, state) pairs of a run."""

from __future__ import annotations

from collections.abc import Sequence

from kverify.ir.system import State, TransitionSystem
from kverify.trace.model import Trace, TraceStep, TraceViolation


def build_trace(
    system: TransitionSystem,
    initial: State,
    path: Sequence[tuple[int, State]],
    violation: TraceViolation | None = None,
    partial_last: bool = False,
    loop: int | None = None,
) -> Trace:
    """Turn a run into a trace.

    ``path`` lists, for every step, the transition id fired and the state after it.
    ``partial_last`` marks the last step as one that stopped in the middle (its state is the
    partial state a failed check or a model error carried).
    """
    layout = system.layout
    steps: list[TraceStep] = []
    before = initial
    for k, (tid, after) in enumerate(path):
        t = system.transitions[tid]
        steps.append(
            TraceStep(
                tid=tid,
                pid=t.pid,
                process=system.processes[t.pid].name,
                label=t.label,
                source=t.source,
                kernel=t.kernel,
                stack=t.stack,
                state=after,
                changes=layout.changes(before, after),
                partial=partial_last and k == len(path) - 1,
            )
        )
        before = after
    declared = layout.initial()
    changed = {name for step in steps for name in step.changes}
    shown = frozenset(
        v.name
        for v in layout.variables
        if v.name in changed or any(initial[i] != declared[i] for i in v.slots)
    )
    return Trace(
        initial=initial,
        initial_values=layout.describe(initial),
        shown=shown,
        processes=tuple(p.name for p in system.processes),
        steps=tuple(steps),
        violation=violation,
        loop=loop,
    )
