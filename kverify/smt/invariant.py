"""Invariants as clauses over slot equalities: their z3 form, an independent certificate
check, and the printing.

A *literal* ``(slot, value, True)`` says the slot holds the value, ``(slot, value, False)``
that it does not; a *clause* is a disjunction of literals and an invariant a conjunction of
clauses.  IC3's lemmas (negated cubes) and the candidates mined from explicit states
(:mod:`kverify.smt.houdini`) are both clauses, so one checker and one printer serve both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import z3

from kverify.ir.system import TransitionSystem
from kverify.smt.encode import Vec, _and
from kverify.smt.relation import SymbolicSystem
from kverify.smt.spacer import show_invariant

Literal = tuple[int, int, bool]
Clause = tuple[Literal, ...]
Cube = tuple[tuple[int, int], ...]  # sorted (slot, value) pairs: a conjunction of equalities


def negated_cube(cube: Iterable[tuple[int, int]]) -> Clause:
    """The clause excluding the states of a cube (a conjunction of slot equalities)."""
    return tuple((i, v, False) for i, v in cube)


def clause_formula(sym: SymbolicSystem, clause: Clause, s: Vec) -> z3.BoolRef:
    num = sym.encoder.num
    return z3.Or(*((s[i] == num(v)) if positive else (s[i] != num(v)) for i, v, positive in clause))


def conjunction(sym: SymbolicSystem, clauses: Iterable[Clause], s: Vec) -> z3.BoolRef:
    return _and(*(clause_formula(sym, c, s) for c in clauses))


def holds_in(clause: Clause, state: Sequence[int]) -> bool:
    return any((state[i] == v) == positive for i, v, positive in clause)


def bad_condition(sym: SymbolicSystem, s: Vec) -> z3.BoolRef:
    """``s`` violates a property, or some step from it does."""
    return z3.Or(sym.state_bad(s, sym.props), sym.step_fails(s, sym.props))


def step_condition(sym: SymbolicSystem) -> z3.BoolRef:
    """One step from ``sym.pre`` (where the spec's invariants hold) to ``sym.post``, both in
    the slot ranges."""
    enc = sym.encoder
    step = sym.relation(sym.pre, sym.post, sym.select)
    return z3.And(enc.domain(sym.pre), enc.domain(sym.post), sym.invariants_hold(sym.pre), step)


def check_certificate(sym: SymbolicSystem, clauses: Sequence[Clause]) -> str:
    """Check with fresh solvers that ``clauses`` are an inductive invariant excluding every
    bad state; the empty string when they are, else the name of the condition that fails."""
    inv, inv_post = conjunction(sym, clauses, sym.pre), conjunction(sym, clauses, sym.post)
    conditions = {
        "initiation": z3.And(sym.encoder.initial(sym.pre), z3.Not(inv)),
        "consecution": z3.And(inv, step_condition(sym), z3.Not(inv_post)),
        "safety": z3.And(sym.encoder.domain(sym.pre), inv, bad_condition(sym, sym.pre)),
    }
    for name, formula in conditions.items():
        solver = z3.SolverFor("QF_BV")
        solver.add(formula)
        if solver.check() != z3.unsat:
            return name
    return ""


def merged(sym: SymbolicSystem, clauses: Sequence[Clause]) -> list[Clause]:
    """The same invariant within the slot ranges, with the one-literal clauses ``x != v`` on
    one slot merged into ``x == a || x == b ...`` over the values left when that is shorter."""
    excluded: dict[int, set[int]] = {}
    rest: list[Clause] = []
    for c in clauses:
        if len(c) == 1 and not c[0][2]:
            excluded.setdefault(c[0][0], set()).add(c[0][1])
        else:
            rest.append(c)
    out: list[Clause] = []
    for i, values in sorted(excluded.items()):
        lo, hi = sym.encoder.ranges.slot[i]
        allowed = [v for v in range(lo, hi + 1) if v not in values]
        if len(allowed) < len(values):
            out.append(tuple((i, v, True) for v in allowed))
        else:
            out += [((i, v, False),) for v in sorted(values)]
    return out + rest


def invariant_lines(system: TransitionSystem, clauses: Sequence[Clause]) -> list[str]:
    """The invariant in model syntax, one clause per line (slot, enum and reference names as
    in traces)."""
    slots = [z3.Int(f"{s.name}@pre") for s in system.layout.slots]

    def lit(i: int, v: int, positive: bool) -> z3.BoolRef:
        return slots[i] == v if positive else slots[i] != v

    formula = z3.And(*(z3.Or(*(lit(*x) for x in c)) for c in clauses))
    return show_invariant(system, formula)
