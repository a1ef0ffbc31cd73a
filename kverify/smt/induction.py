"""Induction, k-induction, and the classification of counterexamples to induction.

``induction`` checks each property relative to the spec's invariants ``I``:

* an invariant ``p`` is inductive when no state satisfying ``I`` has a step to a state
  violating ``p`` (and no initial state violates it);
* a check inside the code (assert, warn_on, model error) holds when no step from a state
  satisfying ``I`` fails it: the counterexample is a one-step trace;
* deadlock and ``final`` properties hold when no state satisfying ``I`` shows them.

If every property passes, ``I`` is an inductive invariant that implies them all: a proof.
``k_induction`` strengthens the hypothesis with k good states in a row (on a loop-free path)
and checks the base case by BMC.

A counterexample to induction (CTI) starts in a state that need not be reachable.  The
explicit engine decides: when the start state is reachable, the CTI is a real violation and
is shown with the path from an initial state; when it is not, the invariants are too weak
and need strengthening.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import z3

from kverify.explore.compile import CompiledSystem
from kverify.explore.search import Limits, search
from kverify.explore.store import StateStore
from kverify.ir.system import State, TransitionSystem
from kverify.result import Result, Stats, Verdict, Violation
from kverify.smt.bmc import bmc
from kverify.smt.encode import MODEL_ERROR, Vec
from kverify.smt.extract import confirmed_trace
from kverify.smt.relation import SymbolicSystem
from kverify.trace.model import TraceViolation

CTI = "cti"  # the kind of a Violation that is a counterexample to induction only


class Reachability:
    """Answers "is this state reachable?" with one explicit search, run on first use."""

    def __init__(self, compiled: CompiledSystem, limits: Limits) -> None:
        self.compiled = compiled
        self.limits = limits
        self.store: StateStore | None = None
        self.complete = False

    def path_to(self, state: State) -> tuple[State, list[int]] | None:
        """(initial state, transitions) reaching ``state``, or None when it is unreachable.
        Raises LookupError when the search stopped at a limit before finding it."""
        if self.store is None:
            self.store = StateStore()
            result = search(self.compiled, self.limits, store=self.store)
            self.complete = not result.reason
        i = self.store.index.get(self.compiled.pack(state))
        if i is None:
            if not self.complete:
                raise LookupError("the explicit search stopped at a limit")
            return None
        root, links = self.store.path(i)
        return self.compiled.unpack(self.store.packed[root]), [tid for tid, _ in links]


@dataclass
class Classified:
    """The verdict a CTI leads to for its property, and what to show."""

    verdict: Verdict
    violation: Violation
    note: str = ""


def classify(cti: Violation, reach: Reachability) -> Classified:
    """Decide whether the start state of ``cti`` is reachable and turn it into a verdict."""
    assert cti.trace is not None
    compiled = reach.compiled
    try:
        found = reach.path_to(cti.trace.initial)
    except LookupError as exc:
        note = f"{cti.prop}: not inductive; whether its CTI is reachable is unknown ({exc})"
        return Classified(Verdict.INCOMPLETE, _as_cti(cti, "reachability unknown"), note)
    if found is None:
        note = (
            f"{cti.prop}: not inductive; the counterexample to induction starts in an "
            "unreachable state: the invariants need strengthening"
        )
        return Classified(Verdict.INCOMPLETE, _as_cti(cti, "unreachable start state"), note)
    initial, prefix = found
    tids = prefix + [step.tid for step in cti.trace.steps]
    partial = bool(cti.trace.steps) and cti.trace.steps[-1].partial
    real = confirmed_trace(compiled, initial, tids[:-1] if partial else tids, [cti.prop], failing=partial)
    return Classified(Verdict.VIOLATED, real)


def _as_cti(cti: Violation, why: str) -> Violation:
    assert cti.trace is not None
    v = cti.trace.violation
    assert v is not None
    message = f"counterexample to induction ({why}): {v.message}"
    trace = replace(cti.trace, violation=TraceViolation(v.prop, CTI, message))
    return Violation(cti.prop, CTI, message, trace)


# --------------------------------------------------------------------------- induction


@dataclass
class _Query:
    """A fresh solver over a start state in the domain satisfying the invariants."""

    sym: SymbolicSystem
    solver: z3.Solver = field(default_factory=z3.Solver)

    def __post_init__(self) -> None:
        self.pre = self.sym.encoder.vector("cti")
        self.solver.add(self.sym.encoder.domain(self.pre))
        self.solver.add(self.sym.invariants_hold(self.pre))


def _cti(sym: SymbolicSystem, compiled: CompiledSystem, prop: str) -> Violation | None:
    """A counterexample to the induction of ``prop`` relative to the invariants, or None."""
    q = _Query(sym)
    kind = next((p.kind for p in sym.system.properties if p.name == prop), "")
    if kind == "invariant" or prop == MODEL_ERROR:
        post = sym.encoder.vector("cti'")
        select = sym.selectors("cti")
        q.solver.push()
        q.solver.add(sym.relation(q.pre, post, select), sym.state_bad(post, [prop]))
        if q.solver.check() == z3.sat:
            m = q.solver.model()
            tid = next(t for t, x in enumerate(select) if z3.is_true(m.eval(x, model_completion=True)))
            return confirmed_trace(compiled, _state(sym, m, q.pre), [tid], [prop], failing=False)
        q.solver.pop()
    if kind in ("final", "deadlock") or prop == MODEL_ERROR:
        q.solver.push()
        q.solver.add(sym.state_bad(q.pre, [prop]))
        if q.solver.check() == z3.sat:
            return confirmed_trace(compiled, _state(sym, q.solver.model(), q.pre), [], [prop], failing=False)
        q.solver.pop()
    if kind in ("assert", "warn") or prop == MODEL_ERROR:
        q.solver.add(sym.step_fails(q.pre, [prop]))
        if q.solver.check() == z3.sat:
            return confirmed_trace(compiled, _state(sym, q.solver.model(), q.pre), [], [prop], failing=True)
    return None


def _state(sym: SymbolicSystem, model: z3.ModelRef, s: Vec) -> State:
    return tuple(sym.encoder.value(model, x) for x in s)


def induction_result(sym: SymbolicSystem, compiled: CompiledSystem, reach: Reachability) -> Result:
    """Check every property by induction relative to the invariants; classify each CTI."""
    started = time.perf_counter()
    system = sym.system
    base = bmc(sym, compiled, 0)  # an initial state that is already bad
    properties: dict[str, Verdict] = {}
    shown: list[Violation] = []
    notes: list[str] = []
    for prop in sym.props:
        if prop in base.found:
            properties[prop] = Verdict.VIOLATED
            shown.append(base.found[prop])
            continue
        cti = _cti(sym, compiled, prop)
        if cti is None:
            properties[prop] = Verdict.HOLDS
            continue
        verdict = classify(cti, reach)
        properties[prop] = verdict.verdict
        shown.append(verdict.violation)
        if verdict.note:
            notes.append(verdict.note)
    invariants = [p.name for p in sym.invariants]
    if any(properties[name] is not Verdict.HOLDS for name in invariants):
        # The invariants are not all inductive: what was shown relative to them is not a proof.
        for name, v in properties.items():
            if v is Verdict.HOLDS and name not in invariants:
                properties[name] = Verdict.INCOMPLETE
        notes.append("the invariants are not all inductive: the other properties hold only relative to them")
    return _result(system, "smt-induction", properties, shown, notes, started, depth=1)


def _result(
    system: TransitionSystem,
    engine: str,
    properties: dict[str, Verdict],
    shown: list[Violation],
    notes: list[str],
    started: float,
    depth: int,
) -> Result:
    verdicts = set(properties.values())
    if Verdict.VIOLATED in verdicts:
        verdict = Verdict.VIOLATED
    elif Verdict.INCOMPLETE in verdicts:
        verdict = Verdict.INCOMPLETE
    else:
        verdict = Verdict.HOLDS
    reason = _summary(notes) if verdict is Verdict.INCOMPLETE else ""
    return Result(
        spec=system.name,
        variant=system.variant,
        verdict=verdict,
        stats=Stats(max_depth=depth, seconds=time.perf_counter() - started),
        properties=properties,
        violations=tuple(shown),
        reason=reason,
        notes=system.notes + tuple(n for n in notes if verdict is not Verdict.INCOMPLETE),
        engine=engine,
    )


def _summary(notes: list[str]) -> str:
    """Notes of the form "prop: why" with the same "why" merged into one sentence."""
    groups: dict[str, list[str]] = {}
    plain: list[str] = []
    for note in notes:
        prop, sep, why = note.partition(": ")
        if sep and " " not in prop:
            groups.setdefault(why, []).append(prop)
        else:
            plain.append(note)
    merged = [f"{', '.join(props)}: {why}" for why, props in groups.items()]
    return "; ".join(merged + plain)


# --------------------------------------------------------------------------- k-induction


def k_induction_result(
    sym: SymbolicSystem, compiled: CompiledSystem, reach: Reachability, max_k: int
) -> Result:
    """k-induction for k = 1 .. ``max_k`` over the conjunction of every property."""
    started = time.perf_counter()
    system = sym.system
    last: Classified | None = None
    for k in range(1, max_k + 1):
        base = bmc(sym, compiled, k)
        if base.found:
            props = {p: (Verdict.VIOLATED if p in base.found else Verdict.INCOMPLETE) for p in sym.props}
            return _result(system, "smt-k-induction", props, list(base.found.values()), [], started, k)
        if base.complete:
            props = {p: Verdict.HOLDS for p in sym.props}
            return _result(system, "smt-k-induction", props, [], [], started, k)
        cti = _k_cti(sym, compiled, k)
        if cti is None:
            props = {p: Verdict.HOLDS for p in sym.props}
            note = f"proved by {k}-induction"
            return _result(system, "smt-k-induction", props, [], [note], started, k)
        last = classify(cti, reach)
        if last.verdict is Verdict.VIOLATED:
            props = {p: Verdict.INCOMPLETE for p in sym.props}
            props[cti.prop] = Verdict.VIOLATED
            return _result(system, "smt-k-induction", props, [last.violation], [], started, k)
    props = {p: Verdict.INCOMPLETE for p in sym.props}
    shown = [last.violation] if last is not None else []
    note = f"not {max_k}-inductive" + (f"; {last.note}" if last is not None and last.note else "")
    return _result(system, "smt-k-induction", props, shown, [note], started, max_k)


def _k_cti(sym: SymbolicSystem, compiled: CompiledSystem, k: int) -> Violation | None:
    """A loop-free path of k good states followed by a bad one, as a trace, or None."""
    solver = z3.Solver()
    states = [sym.encoder.vector(f"k{i}") for i in range(k + 1)]
    selects = [sym.selectors(f"k{i}") for i in range(k)]
    solver.add(sym.encoder.domain(states[0]))
    for i in range(k):
        solver.add(sym.good(states[i]), sym.relation(states[i], states[i + 1], selects[i]))
    for i in range(k + 1):
        for j in range(i + 1, k + 1):
            solver.add(z3.Or(*(a != b for a, b in zip(states[i], states[j]))))
    last = states[-1]
    in_state = sym.state_bad(last, sym.props)
    solver.add(z3.Or(in_state, sym.any_fail(last)))
    if solver.check() != z3.sat:
        return None
    m = solver.model()
    tids = [
        next(t for t, x in enumerate(sel) if z3.is_true(m.eval(x, model_completion=True))) for sel in selects
    ]
    failing = not z3.is_true(m.eval(in_state, model_completion=True))
    return confirmed_trace(compiled, _state(sym, m, states[0]), tids, sym.props, failing=failing)
