"""Coverage and vacuity, measured after a search over the states it stored.

The search loop is left untouched (no cost when coverage is off).  Afterwards every stored
state that the search would expand (it violates no invariant) is visited once more, and every
step whose process sits at the step's start pc is tried until it has been seen to run: a model
statement (a source line) is executed when one of its steps ran in some explored state.  With
partial-order reduction the search may skip some interleavings; the steps tried here are all
the enabled ones, so a statement counts as executed when it can run in an explored state.

Vacuity: an ``invariant`` or ``final`` written ``!p || q`` (``p ==> q``; with more disjuncts,
every negated one belongs to the premise: ``!p1 || !p2 || q`` is ``p1 && p2 ==> q``) is vacuous
when its premise held in no state it is checked in (every explored state for an invariant, every
state where no process can move for a ``final``).  A ``final`` is also vacuous when no such
state was reached at all, and an ``assert`` / ``warn_on`` when no step that checks it ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kverify.explore.compile import CompiledSystem, ModelError, StepFailure, compile_system
from kverify.explore.store import StateStore
from kverify.ir import expr as ir
from kverify.ir.system import Property, State, Transition, TransitionSystem
from kverify.result import Coverage, Statement

Predicate = Callable[[State], bool]


def premise(expr: ir.Expr) -> ir.Expr | None:
    """The premise of ``!p || q`` (the conjunction of the negated disjuncts), else None."""
    disjuncts = _disjuncts(expr)
    negated = [d.arg for d in disjuncts if isinstance(d, ir.Unary) and d.op == "!"]
    if not negated or len(negated) == len(disjuncts):
        return None
    out = negated[0]
    for term in negated[1:]:
        out = ir.Binary("&&", out, term)
    return out


def _disjuncts(expr: ir.Expr) -> list[ir.Expr]:
    if isinstance(expr, ir.Binary) and expr.op == "||":
        return _disjuncts(expr.left) + _disjuncts(expr.right)
    return [expr]


def measure_coverage(compiled: CompiledSystem, store: StateStore, complete: bool = True) -> Coverage:
    """Coverage of the search that filled ``store`` (``complete``: it explored everything)."""
    system = compiled.system
    fired, reached, premises = _scan(compiled, store)
    return Coverage(
        statements=len(_lines(system.transitions)),
        executed=len(_lines(system.transitions[t] for t in fired)),
        unexecuted=_unexecuted(system, fired),
        untaken=_untaken(system, fired),
        vacuous=_vacuous(system, reached, premises),
        complete=complete,
    )


class _Premises:
    """The premises to watch and what was seen: premise held, a terminal state reached."""

    def __init__(self, system: TransitionSystem) -> None:
        self.invariants: list[tuple[str, Predicate]] = []
        self.finals: list[tuple[str, Predicate]] = []
        self.held: set[str] = set()
        self.terminal = False
        props = []
        for prop in system.properties:
            if prop.kind in ("invariant", "final") and prop.expr is not None:
                p = premise(prop.expr)
                if p is not None:
                    props.append(Property(prop.name, prop.kind, expr=p))
        if props:
            bare = replace(system, transitions=(), properties=tuple(props))
            checker = compile_system(bare)
            self.invariants = list(checker.invariants)
            self.finals = list(checker.finals)

    def look(self, state: State, watch: list[tuple[str, Predicate]]) -> None:
        for name, pred in watch:
            if name not in self.held and _holds(pred, state):
                self.held.add(name)


def _holds(pred: Predicate, state: State) -> bool:
    try:
        return bool(pred(state))
    except ModelError:
        return False


def _scan(compiled: CompiledSystem, store: StateStore) -> tuple[set[int], set[str], _Premises]:
    system = compiled.system
    checks = _checks(system)
    premises = _Premises(system)
    fired: set[int] = set()
    reached: set[str] = set()
    unpack = compiled.packer.unpack
    for key in store.packed:
        state = unpack(key)
        premises.look(state, premises.invariants)
        if _violates(compiled, state):
            continue
        enabled = False
        for tid, step in compiled.candidates(state):
            if enabled and tid in fired:
                continue
            try:
                nxt = step(state)
            except StepFailure as exc:
                enabled = True
                reached.add(exc.prop)
                continue
            if nxt is not None:
                enabled = True
                if tid not in fired:
                    fired.add(tid)
                    reached.update(checks[tid])
        if not enabled:
            premises.terminal = True
            premises.look(state, premises.finals)
    return fired, reached, premises


def _checks(system: TransitionSystem) -> dict[int, set[str]]:
    """The checks each step evaluates.  A check in a branch condition
    (``if (warn_on(c))``) sits in the step of one branch only; its sibling steps (same
    process, start pc and line) evaluated the same condition, so they count too."""
    own = {t.tid: {op.prop for op in t.ops if isinstance(op, ir.Check)} for t in system.transitions}
    siblings: dict[tuple[int, int, str, int], set[str]] = {}
    for t in system.transitions:
        key = (t.pid, t.pc_from, t.source.file, t.source.line)
        siblings.setdefault(key, set()).update(own[t.tid])
    return {t.tid: siblings[(t.pid, t.pc_from, t.source.file, t.source.line)] for t in system.transitions}


def _violates(compiled: CompiledSystem, state: State) -> bool:
    return any(not _holds(pred, state) for _name, pred in compiled.invariants)


def _lines(transitions: object) -> set[tuple[str, int]]:
    return {(t.source.file, t.source.line) for t in transitions}  # type: ignore[attr-defined]


def _by_line(system: TransitionSystem) -> dict[tuple[str, int], list[Transition]]:
    table: dict[tuple[str, int], list[Transition]] = {}
    for t in system.transitions:
        table.setdefault((t.source.file, t.source.line), []).append(t)
    return dict(sorted(table.items()))


def _statement(where: tuple[str, int], transitions: list[Transition]) -> Statement:
    labels = tuple(dict.fromkeys(" ".join(t.label.split()) for t in transitions))
    kernel = next((t.kernel for t in transitions if t.kernel is not None), None)
    text = f"{kernel.function} {kernel.file}:{kernel.line}" if kernel is not None else ""
    return Statement(where[0], where[1], labels, text)


def _unexecuted(system: TransitionSystem, fired: set[int]) -> tuple[Statement, ...]:
    return tuple(
        _statement(where, ts) for where, ts in _by_line(system).items() if not any(t.tid in fired for t in ts)
    )


def _untaken(system: TransitionSystem, fired: set[int]) -> tuple[Statement, ...]:
    out = []
    for where, ts in _by_line(system).items():
        ran = {" ".join(t.label.split()) for t in ts if t.tid in fired}
        missing = [t for t in ts if t.tid not in fired and " ".join(t.label.split()) not in ran]
        if ran and missing:
            out.append(_statement(where, missing))
    return tuple(out)


def _vacuous(system: TransitionSystem, reached: set[str], premises: _Premises) -> dict[str, str]:
    out: dict[str, str] = {}
    watched = {name for name, _ in premises.invariants + premises.finals}
    for prop in system.properties:
        if prop.kind in ("assert", "warn") and prop.name not in reached:
            out[prop.name] = f"{prop.kind} never reached"
        elif prop.kind == "final" and not premises.terminal:
            out[prop.name] = "no state where every process has stopped was reached"
        elif prop.name in watched and prop.name not in premises.held:
            where = "reachable state" if prop.kind == "invariant" else "final state"
            out[prop.name] = f"its premise held in no {where}"
    return out
