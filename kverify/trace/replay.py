"""Re-execute a trace against the compiled model and confirm every step and the violation.

Every trace an engine produces must replay: the steps are fired again from the initial state,
each must be enabled and reach the recorded state, and the violation at the end must show again.
A trace that does not replay (e.g. a saved trace against a changed model) raises
:class:`ReplayError`.
"""

from __future__ import annotations

from kverify.errors import KverifyError
from kverify.explore.compile import CompiledSystem, ModelError, StepFailure
from kverify.ir.system import State, TransitionSystem
from kverify.trace.model import Trace, TraceStep, TraceViolation


class ReplayError(KverifyError):
    """A trace does not reproduce on the model."""


def replay(system: TransitionSystem, compiled: CompiledSystem, trace: Trace) -> State:
    """Replay ``trace``; return the state it ends in, or raise :class:`ReplayError`."""
    if trace.initial not in system.initial_states:
        raise ReplayError("the trace starts in a state that is not an initial state")
    state = trace.initial
    for number, step in enumerate(trace.steps, start=1):
        if step.partial and number != len(trace.steps):
            raise ReplayError(
                f"step {number} stopped in the middle but is not the last step"
            )
        state = _replay_step(system, compiled, state, number, step, trace.violation)
    last_partial = bool(trace.steps) and trace.steps[-1].partial
    if trace.violation is not None and not last_partial:
        _confirm_state_violation(compiled, state, trace.violation)
    return state


def _replay_step(
    system: TransitionSystem,
    compiled: CompiledSystem,
    state: State,
    number: int,
    step: TraceStep,
    violation: TraceViolation | None,
) -> State:
    if not 0 <= step.tid < len(system.transitions):
        raise ReplayError(f"step {number}: no transition {step.tid} in the model")
    t = system.transitions[step.tid]
    pc_slot = system.processes[t.pid].pc_slot
    if state[pc_slot] != t.pc_from:
        raise ReplayError(f"step {number}: {step.process} is not at `{t.label}`")
    try:
        after = compiled.steps[step.tid](state)
    except StepFailure as exc:
        if not step.partial:
            raise ReplayError(
                f"step {number}: `{t.label}` failed: {exc.message}"
            ) from exc
        _confirm_failure(number, step, exc, violation)
        return step.state
    if step.partial:
        raise ReplayError(
            f"step {number}: `{t.label}` was expected to fail but did not"
        )
    if after is None:
        raise ReplayError(f"step {number}: `{t.label}` is not enabled")
    if after != step.state:
        raise ReplayError(f"step {number}: `{t.label}` reaches a different state")
    return after


def _confirm_failure(
    number: int, step: TraceStep, exc: StepFailure, violation: TraceViolation | None
) -> None:
    if violation is None or exc.prop != violation.prop:
        want = violation.prop if violation else "nothing"
        raise ReplayError(f"step {number}: fails {exc.prop}, the trace records {want}")
    if exc.state is not None and exc.state != step.state:
        raise ReplayError(f"step {number}: the failure is reached in a different state")


def _confirm_state_violation(
    compiled: CompiledSystem, state: State, violation: TraceViolation
) -> None:
    prop = violation.prop
    if prop == "deadlock" or violation.kind == "deadlock":
        if has_enabled_step(compiled, state) or compiled.done(state):
            raise ReplayError("the trace does not end in a deadlock")
        return
    for name, pred in compiled.invariants:
        if name == prop and _predicate_fails(pred, state):
            return
    if not has_enabled_step(compiled, state):
        for name, pred in compiled.finals:
            if name == prop and _predicate_fails(pred, state):
                return
    if prop == "model-error" and _some_predicate_errs(compiled, state):
        return
    raise ReplayError(f"{prop} is not violated at the end of the trace")


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
