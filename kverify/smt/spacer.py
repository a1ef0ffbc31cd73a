"""Unbounded proofs with z3's Spacer engine (property-directed reachability over Horn clauses).

The system becomes three constrained Horn clauses over one relation ``Inv`` of the slots:

    init(s)                                  => Inv(s)
    Inv(s) and invariants(s) and step(s, s') => Inv(s')
    Inv(s) and bad(s)                        => false

where ``bad`` is any violation the explicit search would record in ``s`` or by a step from it.
If the clauses are satisfiable, Spacer's interpretation of ``Inv`` is an inductive invariant
that excludes every bad state: a proof for any run length.  It is printed in the model's own
names (:func:`show_invariant`).  If they are not, some violation is reachable and BMC finds
its shortest trace.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import z3

from kverify.ir.system import TransitionSystem
from kverify.smt.relation import SymbolicSystem


@dataclass(frozen=True)
class SpacerOutcome:
    """``status`` is ``proved``, ``violated`` or ``unknown``; ``invariant`` is the learned
    inductive invariant (a z3 formula over the slots) when proved."""

    status: str
    seconds: float
    invariant: z3.BoolRef | None = None
    reason: str = ""


def spacer(sym: SymbolicSystem, timeout: float | None = None) -> SpacerOutcome:
    """Run Spacer on the clauses of ``sym``; give up after ``timeout`` seconds."""
    started = time.perf_counter()
    fp = z3.Fixedpoint()
    fp.set(engine="spacer")
    fp.set("xform.slice", False)  # keep every slot an argument, so the answer names them all
    fp.set("xform.inline_linear", False)
    fp.set("xform.inline_eager", False)
    sorts = [z3.IntSort()] * len(sym.pre)
    inv = z3.Function("Inv", *sorts, z3.BoolSort())
    err = z3.Function("Err", z3.BoolSort())
    fp.register_relation(inv, err)
    select = sym.selectors("rule")
    fp.declare_var(*sym.pre, *sym.post, *select)
    for state in sym.system.initial_states:
        fp.fact(inv(*[z3.IntVal(v) for v in state]))
    step = z3.And(sym.invariants_hold(sym.pre), sym.relation(sym.pre, sym.post, select))
    fp.rule(inv(*sym.post), [inv(*sym.pre), step])
    bad = z3.Or(sym.state_bad(sym.pre, sym.props), sym.step_fails(sym.pre, sym.props))
    fp.rule(err(), [inv(*sym.pre), bad])
    answer, reason = _query(fp, err(), timeout)
    seconds = time.perf_counter() - started
    if answer == z3.unsat:
        cover = fp.get_cover_delta(-1, inv)
        formula = _bind(cover, sym)
        return SpacerOutcome("proved", seconds, formula)
    if answer == z3.sat:
        return SpacerOutcome("violated", seconds)
    return SpacerOutcome("unknown", seconds, reason=reason)


def _query(fp: z3.Fixedpoint, goal: z3.BoolRef, timeout: float | None) -> tuple[z3.CheckSatResult, str]:
    """Ask ``goal``; interrupt the context when ``timeout`` seconds have passed."""
    timer = None
    expired = threading.Event()
    if timeout is not None:

        def stop() -> None:
            expired.set()
            fp.ctx.interrupt()

        timer = threading.Timer(timeout, stop)
        timer.daemon = True
        timer.start()
    try:
        answer = fp.query(goal)
        reason = "" if answer != z3.unknown else fp.reason_unknown()
    except z3.Z3Exception as exc:
        answer, reason = z3.unknown, str(exc)
    finally:
        if timer is not None:
            timer.cancel()
            # Wait for the timer thread to end while this thread still holds ``fp``: were the
            # thread the last holder of its closure, z3 objects would be freed on that thread,
            # concurrently with this thread's next z3 calls (a heap corruption, seen as
            # crashes in later, unrelated z3 calls).
            timer.join()
    if expired.is_set() and answer == z3.unknown:
        reason = f"time limit {timeout:g}s reached"
    return answer, reason


def _bind(cover: z3.ExprRef, sym: SymbolicSystem) -> z3.BoolRef:
    """The cover formula with its bound variables (argument positions) replaced by slots."""
    return z3.substitute_vars(cover, *sym.pre)


# --------------------------------------------------------------------------- printing

_OPS = {
    z3.Z3_OP_LE: "<=", z3.Z3_OP_GE: ">=", z3.Z3_OP_LT: "<", z3.Z3_OP_GT: ">",
    z3.Z3_OP_ADD: "+", z3.Z3_OP_SUB: "-", z3.Z3_OP_MUL: "*",
    z3.Z3_OP_IDIV: "/", z3.Z3_OP_MOD: "%",
}  # fmt: skip


_NEGATED = {z3.Z3_OP_LE: ">", z3.Z3_OP_GE: "<", z3.Z3_OP_LT: ">=", z3.Z3_OP_GT: "<="}


class InvariantPrinter:
    """Prints a z3 formula over the slot constants in the model's syntax: slot names, and
    enum / reference / bool names where a slot is compared with a constant."""

    def __init__(self, system: TransitionSystem) -> None:
        self.system = system
        self.slots = {f"{s.name}@pre": s for s in system.layout.slots}

    def conjuncts(self, f: z3.ExprRef) -> list[str]:
        """One line per top-level conjunct."""
        f = z3.simplify(f)
        parts = f.children() if z3.is_and(f) else [f]
        # Bounds of a single variable first (they read like the declared ranges), then the
        # relations between variables, each group in a stable order.
        lines = [(len(_slots_in(p)) > 1, self.show(p)) for p in parts]
        return [text for _, text in sorted(lines)]

    def show(self, e: z3.ExprRef) -> str:
        if z3.is_true(e):
            return "true"
        if z3.is_false(e):
            return "false"
        if z3.is_int_value(e):
            return str(e.as_long())
        if z3.is_const(e) and str(e) in self.slots:
            return self.slots[str(e)].name
        kids = e.children()
        if z3.is_not(e):
            inner = kids[0]
            if z3.is_eq(inner):
                return self._compare(inner.children(), "!=")
            negated = _NEGATED.get(inner.decl().kind()) if z3.is_app(inner) else None
            if negated is not None:
                return self._compare(inner.children(), negated)
            return "!" + self._wrap(inner)
        if z3.is_and(e) or z3.is_or(e):
            sep = " && " if z3.is_and(e) else " || "
            return sep.join(self._wrap(k) for k in kids)
        if z3.is_eq(e):
            return self._compare(kids, "==")
        if z3.is_implies(e):
            return f"!{self._wrap(kids[0])} || {self._wrap(kids[1])}"
        if z3.is_app(e) and e.decl().kind() in _OPS:
            op = _OPS[e.decl().kind()]
            if op in ("<=", ">=", "<", ">"):
                return self._compare(kids, op)
            return f" {op} ".join(self._wrap(k) for k in kids)
        if z3.is_app(e) and e.decl().kind() == z3.Z3_OP_UMINUS:
            return "-" + self._wrap(kids[0])
        if z3.is_app(e) and e.decl().kind() == z3.Z3_OP_ITE:
            return f"({self.show(kids[0])} ? {self.show(kids[1])} : {self.show(kids[2])})"
        return str(e)

    def _wrap(self, e: z3.ExprRef) -> str:
        text = self.show(e)
        inner = e.children()[0] if z3.is_not(e) else e
        compare = z3.is_app(inner) and (z3.is_eq(inner) or inner.decl().kind() in _NEGATED)
        simple = z3.is_const(e) or z3.is_int_value(e) or z3.is_not(e) or compare
        return text if simple else f"({text})"

    def _compare(self, kids: list[z3.ExprRef], op: str) -> str:
        left, right = kids
        if z3.is_int_value(left) and not z3.is_int_value(right):
            flip = {"<=": ">=", ">=": "<=", "<": ">", ">": "<"}
            left, right, op = right, left, flip.get(op, op)
        slot = self.slots.get(str(left)) if z3.is_const(left) else None
        if slot is not None and z3.is_int_value(right):
            value = right.as_long()
            if slot.vtype.kind == "bool" and op in ("==", "!=") and value in (0, 1):
                truth = (value == 1) == (op == "==")
                return slot.name if truth else f"!{slot.name}"
            shown = slot.vtype.show(value) if slot.vtype.kind in ("enum", "ref", "pc", "node") else str(value)
            if slot.vtype.kind == "pc" and op in ("==", "!="):
                return (
                    f"{slot.name} {op} {value}  /* {shown} */"
                    if shown != str(value)
                    else f"{slot.name} {op} {value}"
                )
            return f"{slot.name} {op} {shown}"
        return f"{self._wrap(left)} {op} {self._wrap(right)}"


def _slots_in(e: z3.ExprRef) -> set[str]:
    if z3.is_const(e) and not z3.is_int_value(e) and not z3.is_true(e) and not z3.is_false(e):
        return {str(e)}
    out: set[str] = set()
    for k in e.children():
        out |= _slots_in(k)
    return out


def show_invariant(system: TransitionSystem, formula: z3.BoolRef) -> list[str]:
    """The learned invariant as lines of model syntax, one conjunct per line."""
    return InvariantPrinter(system).conjuncts(formula)
