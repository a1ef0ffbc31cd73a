"""The trace data type: an initial state plus the steps that lead to a violation.

A trace is self-contained: every step carries the names and source references a renderer needs,
so renderers take a :class:`Trace` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kverify.ir.system import KernelRef, SourceRef, State


@dataclass(frozen=True)
class TraceViolation:
    """The property a trace violates, its kind (invariant, assert, deadlock, ...) and why."""

    prop: str
    kind: str
    message: str


@dataclass(frozen=True)
class TraceStep:
    """One executed transition.

    ``state`` is the state after the step.  When ``partial`` is true the step stopped in the
    middle (a failed check or a model error) and ``state`` is what it had reached by then.
    ``changes`` maps each variable the step changed to its new value, shown as text.
    """

    tid: int
    pid: int
    process: str
    label: str
    source: SourceRef
    kernel: KernelRef | None
    stack: tuple[str, ...]
    state: State
    changes: dict[str, str] = field(default_factory=dict)
    partial: bool = False


@dataclass(frozen=True)
class Trace:
    """An initial state, the steps taken from it, and the violation at its end.

    ``initial_values`` is the initial state shown as text (variable name -> value);
    ``processes`` lists every process name in pid order (the columns of a CPU-column view).
    ``loop`` is the index of the step a lasso returns to (None for a finite trace).
    ``shown`` names the initial values a compact view prints: the variables some step changes
    and those that do not hold their declared initial value (None: all of them).  Program
    counters and locals are shown only by the second rule (steps' changes leave them out).
    """

    initial: State
    initial_values: dict[str, str]
    processes: tuple[str, ...]
    steps: tuple[TraceStep, ...]
    violation: TraceViolation | None = None
    loop: int | None = None
    shown: frozenset[str] | None = None

    def __len__(self) -> int:
        return len(self.steps)

    def loop_note(self) -> str:
        """How a lasso repeats, in words ("" for a finite trace)."""
        if self.loop is None:
            return ""
        if self.loop >= len(self.steps):
            return "(no step is enabled: the run stays in this last state for ever)"
        first, last = self.loop + 1, len(self.steps)
        span = f"step {first}" if first == last else f"steps {first}-{last}"
        verb = "repeats" if first == last else "repeat"
        return f"(the run loops back to step {first}: {span} {verb} for ever)"

    @property
    def final_state(self) -> State:
        """The state the trace ends in (partial if the last step failed)."""
        return self.steps[-1].state if self.steps else self.initial
