"""Re-execute a trace against the compiled model and confirm every step and the violation.

Every trace an engine produces must replay: the steps are fired again from the initial state,
each must be enabled and reach the recorded state, and the violation at the end must show again.
A trace that does not replay (e.g. a saved trace against a changed model) raises
:class:`ReplayError`, naming the first step that diverges.  :func:`reproduce` tells the two
other outcomes apart: the steps replay and the violation shows again, or the steps replay and
nothing is violated.
"""

from __future__ import annotations

from dataclasses import dataclass

from kverify.errors import KverifyError
from kverify.explore.compile import CompiledSystem, ModelError, StepFailure
from kverify.ir.system import State, TransitionSystem
from kverify.trace.model import Trace, TraceStep, TraceViolation

MAX_DIFFS = 6  # differing variables named in a divergence message


class ReplayError(KverifyError):
    """A trace does not reproduce on the model; ``step`` is the first step that diverges
    (0 for the initial state, None when the steps replay but the violation does not show)."""

    def __init__(self, message: str, step: int | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.step = step


@dataclass(frozen=True)
class ReplayOutcome:
    """How a replayed trace ended: its last state, and the violation seen again (or None and
    why not, in ``note``)."""

    state: State
    violation: TraceViolation | None
    note: str = ""


def replay(system: TransitionSystem, compiled: CompiledSystem, trace: Trace) -> State:
    """Replay ``trace``; return the state it ends in, or raise :class:`ReplayError`."""
    outcome = reproduce(system, compiled, trace)
    if trace.violation is not None and outcome.violation is None:
        raise ReplayError(outcome.note)
    return outcome.state


def reproduce(system: TransitionSystem, compiled: CompiledSystem, trace: Trace) -> ReplayOutcome:
    """Replay the steps of ``trace`` and look for its violation at the end.

    Raises :class:`ReplayError` at the first step that is not enabled, fails unexpectedly or
    reaches a state other than the recorded one.
    """
    if trace.initial not in system.initial_states:
        raise ReplayError(
            "step 0: the trace starts in a state that is not an initial state"
            + _closest_initial_diff(system, trace.initial),
            step=0,
        )
    state = trace.initial
    for number, step in enumerate(trace.steps, start=1):
        if step.partial and number != len(trace.steps):
            raise ReplayError(
                f"step {number} stopped in the middle but is not the last step", step=number
            )
        outcome = _replay_step(system, compiled, state, number, step, trace.violation)
        if isinstance(outcome, ReplayOutcome):
            return outcome
        state = outcome
    if trace.violation is None:
        return ReplayOutcome(state, None, "the trace records no violation")
    if trace.violation.kind == "liveness":
        return _lasso_closes(compiled, trace, state)
    if violation_shows(compiled, state, trace.violation):
        return ReplayOutcome(state, trace.violation)
    return ReplayOutcome(
        state, None, f"{trace.violation.prop} is not violated at the end of the trace"
    )


def _lasso_closes(compiled: CompiledSystem, trace: Trace, state: State) -> ReplayOutcome:
    """A liveness counterexample is a lasso: the last state is the state the loop starts in,
    or (a loop at the last state) a state where no step can fire."""
    loop = trace.loop
    states = [trace.initial] + [s.state for s in trace.steps]
    if loop is None or not 0 <= loop < len(states):
        return ReplayOutcome(state, None, "a liveness counterexample needs a loop index")
    if loop == len(states) - 1:
        if has_enabled_step(compiled, state):
            return ReplayOutcome(state, None, "the run does not end in a state where no step is enabled")
        return ReplayOutcome(state, trace.violation)
    if states[loop] != state:
        return ReplayOutcome(
            state, None, f"the last state is not the state of step {loop} (the loop does not close)"
        )
    return ReplayOutcome(state, trace.violation)


def _closest_initial_diff(system: TransitionSystem, state: State) -> str:
    if len(system.initial_states) != 1:
        return ""
    return " (" + state_diff(system, state, system.initial_states[0]) + ")"


def state_diff(system: TransitionSystem, recorded: State, actual: State) -> str:
    """The variables whose value differs, as ``name: trace X, model Y``."""
    layout = system.layout
    parts: list[str] = []
    seen: set[int] = set()
    for v in layout.variables:
        seen.update(v.slots)
        if any(recorded[i] != actual[i] for i in v.slots):
            parts.append(
                f"{v.name}: trace {v.show(recorded, layout)}, model {v.show(actual, layout)}"
            )
    for slot in layout.slots:
        if slot.index not in seen and recorded[slot.index] != actual[slot.index]:
            parts.append(
                f"{slot.name}: trace {recorded[slot.index]}, model {actual[slot.index]}"
            )
    more = f"; and {len(parts) - MAX_DIFFS} more" if len(parts) > MAX_DIFFS else ""
    return "; ".join(parts[:MAX_DIFFS]) + more


def _replay_step(
    system: TransitionSystem,
    compiled: CompiledSystem,
    state: State,
    number: int,
    step: TraceStep,
    violation: TraceViolation | None,
) -> State | ReplayOutcome:
    if not 0 <= step.tid < len(system.transitions):
        raise ReplayError(f"step {number}: no transition {step.tid} in the model", step=number)
    t = system.transitions[step.tid]
    pc_slot = system.processes[t.pid].pc_slot
    if state[pc_slot] != t.pc_from:
        raise ReplayError(f"step {number}: {step.process} is not at `{t.label}`", step=number)
    try:
        after = compiled.steps[step.tid](state)
    except StepFailure as exc:
        if not step.partial:
            raise ReplayError(
                f"step {number}: `{t.label}` failed: {exc.message}", step=number
            ) from exc
        _confirm_failure(number, step, exc, violation)
        return ReplayOutcome(step.state, violation)
    if after is None:
        raise ReplayError(f"step {number}: `{t.label}` is not enabled", step=number)
    if step.partial:
        return ReplayOutcome(
            after, None, f"step {number}: `{t.label}` was expected to fail but did not"
        )
    if after != step.state:
        raise ReplayError(
            f"step {number}: `{t.label}` reaches a different state"
            f" ({state_diff(system, step.state, after)})",
            step=number,
        )
    return after


def _confirm_failure(
    number: int, step: TraceStep, exc: StepFailure, violation: TraceViolation | None
) -> None:
    if violation is None or exc.prop != violation.prop:
        want = violation.prop if violation else "nothing"
        raise ReplayError(
            f"step {number}: fails {exc.prop}, the trace records {want}", step=number
        )
    if exc.state is not None and exc.state != step.state:
        raise ReplayError(
            f"step {number}: the failure is reached in a different state", step=number
        )


def violation_shows(compiled: CompiledSystem, state: State, violation: TraceViolation) -> bool:
    """Whether ``state`` violates the state property ``violation`` names (an invariant, a
    ``final`` in a state where no step is enabled, deadlock, or a predicate's model error)."""
    prop = violation.prop
    if prop == "deadlock" or violation.kind == "deadlock":
        return not (has_enabled_step(compiled, state) or compiled.done(state))
    for name, pred in compiled.invariants:
        if name == prop and _predicate_fails(pred, state):
            return True
    if not has_enabled_step(compiled, state):
        for name, pred in compiled.finals:
            if name == prop and _predicate_fails(pred, state):
                return True
    return prop == "model-error" and _some_predicate_errs(compiled, state)


def _predicate_fails(pred: object, state: State) -> bool:
    try:
        return not pred(state)  # type: ignore[operator]
    except ModelError:
        return False


def _some_predicate_errs(compiled: CompiledSystem, state: State) -> bool:
    for _name, pred in [*compiled.invariants, *compiled.finals]:
        try:
            pred(state)
        except ModelError:
            return True
    return False


def has_enabled_step(compiled: CompiledSystem, state: State) -> bool:
    """Whether some step can fire in ``state`` (a step that fails counts as enabled)."""
    for _tid, step in compiled.candidates(state):
        try:
            if step(state) is not None:
                return True
        except StepFailure:
            return True
    return False
