"""The transition system: the one seam between the language and every engine.

A model and its spec lower to a :class:`TransitionSystem`.  A state is a flat tuple of small
integers, one per :class:`Slot`; every value the language knows (bool, bounded int, enum,
reference, list element, program counter) is an integer there.  A :class:`Transition` is one
atomic step of one process: a straight line of :mod:`kverify.ir.expr` operations (guards,
assignments, checks) that either runs to the end (the step is enabled) or stops at a false
guard (disabled).  Engines never see the AST: the explicit engine compiles the operations to
Python, the symbolic engine encodes the same trees in z3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kverify.ir.expr import Expr, Op

State = tuple[int, ...]


@dataclass(frozen=True)
class SourceRef:
    """A position in a model or spec file (1-based line and column)."""

    file: str
    line: int
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class KernelRef:
    """A position in the kernel source a model statement stands for, e.g. kthread.c:1058."""

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.function} {self.file}:{self.line}"


@dataclass(frozen=True)
class ValueType:
    """How to show the integers of a slot: ``bool``, ``int``, ``enum`` names, ``ref`` names, ``pc``."""

    kind: str
    names: tuple[str, ...] = ()  # enum members, or reference targets (index 0 is "null")
    offset: int = 0  # value of names[0] (enums start at 0, references at 0 == null)

    def show(self, value: int) -> str:
        if self.kind == "bool":
            return "true" if value else "false"
        if self.names:
            index = value - self.offset
            if 0 <= index < len(self.names):
                return self.names[index]
        return str(value)


@dataclass(frozen=True)
class Slot:
    """One integer of the state vector."""

    index: int
    name: str
    lo: int
    hi: int
    init: int
    vtype: ValueType
    owner: int | None = None  # process id for process-local slots, None for shared ones
    ghost: bool = False


@dataclass(frozen=True)
class Variable:
    """A named group of consecutive slots shown as one value (a list head is several slots)."""

    name: str
    slots: tuple[int, ...]
    kind: str  # "scalar", "list", "pc", or "local" (a function's local: shared between calls)
    owner: int | None = None
    ghost: bool = False

    def show(self, state: State, layout: Layout) -> str:
        if self.kind == "list":
            items = [layout.slots[i].vtype.show(state[i]) for i in self.slots if state[i]]
            return "[" + ", ".join(items) + "]"
        slot = layout.slots[self.slots[0]]
        return slot.vtype.show(state[slot.index])


@dataclass(frozen=True)
class Layout:
    """The state vector: its slots and how they group into named variables."""

    slots: tuple[Slot, ...]
    variables: tuple[Variable, ...]

    def initial(self) -> State:
        return tuple(slot.init for slot in self.slots)

    def describe(self, state: State) -> dict[str, str]:
        """Every variable's value, shown as text, in layout order."""
        return {v.name: v.show(state, self) for v in self.variables}

    def changes(self, before: State, after: State) -> dict[str, str]:
        """The visible variables whose value differs between two states (new value as text).

        Program counters and the locals of called functions are left out: a reader follows
        them through the statements of the trace, and the slots of locals are reused by
        successive calls."""
        return {
            v.name: v.show(after, self)
            for v in self.variables
            if v.kind not in ("pc", "local") and any(before[i] != after[i] for i in v.slots)
        }


@dataclass(frozen=True)
class Process:
    """A thread of the scenario: a CPU running API calls, the worker thread, the timer softirq."""

    pid: int
    name: str
    pc_slot: int
    end_pc: int  # the program counter value of "finished"
    daemon: bool = False  # a daemon never counts as unfinished in deadlock detection
    task_instance: int | None = None  # the task_struct reference ``current`` evaluates to


@dataclass(frozen=True)
class Transition:
    """One atomic step of one process.

    ``ops`` runs in order on a copy of the state: a false ``Guard`` disables the step, a false
    ``Check`` is a violation of the named property, and the pc assignment is the last op.
    ``reads`` and ``writes`` over-approximate the slots the ops may touch (dynamic accesses count
    every slot they might reach); the pc slot of the process is in both.
    """

    tid: int
    pid: int
    pc_from: int
    pc_to: int
    ops: tuple[Op, ...]
    reads: frozenset[int]
    writes: frozenset[int]
    label: str  # the model text of the statement, e.g. "raw_spin_lock_irqsave(&worker->lock)"
    source: SourceRef
    kernel: KernelRef | None = None
    stack: tuple[str, ...] = ()  # model functions, outermost first, inlined at this step
    locks: frozenset[int] = frozenset()  # slots of spinlocks this step takes or releases


@dataclass(frozen=True)
class Temporal:
    """A temporal formula over state predicates, checked on infinite runs.

    ``kind`` is ``always`` (``p`` holds in every state), ``eventually`` (``p`` holds in some
    state), ``always_eventually`` (``p`` holds infinitely often) or ``leads_to`` (every state
    where ``p`` holds is followed, at once or later, by one where ``q`` holds).
    """

    kind: str
    p: Expr
    q: Expr | None = None


@dataclass(frozen=True)
class Fairness:
    """A fairness assumption on the steps of process ``pid``: ``weak`` (a step continuously
    enabled is eventually taken) or ``strong`` (infinitely often enabled, eventually taken)."""

    kind: str
    pid: int


@dataclass(frozen=True)
class Property:
    """A named property.

    ``kind`` is one of ``invariant`` (``expr`` holds in every reachable state), ``final``
    (``expr`` holds in every state with no enabled step), ``assert`` / ``warn`` (a Check op in
    the code; ``expr`` is None), ``deadlock`` and ``model-error`` (built in), or ``liveness``
    (``temporal`` holds on every fair infinite run; see docs/liveness.md).
    """

    name: str
    kind: str
    source: SourceRef | None = None
    expr: Expr | None = None
    description: str = ""
    kernel: KernelRef | None = None
    temporal: Temporal | None = None


@dataclass(frozen=True)
class TransitionSystem:
    """Everything an engine needs: layout, processes, steps, initial states and properties."""

    name: str
    variant: str
    layout: Layout
    processes: tuple[Process, ...]
    transitions: tuple[Transition, ...]
    initial_states: tuple[State, ...]
    properties: tuple[Property, ...]
    spec_file: str = ""
    model_file: str = ""
    check_deadlock: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)
    fairness: tuple[Fairness, ...] = ()

    def property(self, name: str) -> Property:
        for prop in self.properties:
            if prop.name == name:
                return prop
        raise KeyError(name)

    def by_process(self) -> Sequence[dict[int, list[Transition]]]:
        """For each process, its transitions grouped by the pc value they start from."""
        table: list[dict[int, list[Transition]]] = [{} for _ in self.processes]
        for t in self.transitions:
            table[t.pid].setdefault(t.pc_from, []).append(t)
        return table
