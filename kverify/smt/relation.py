"""The transition relation and the bad-state conditions of a system, as z3 templates.

Everything is encoded once over a template pre-state vector (and, for the relation, a
post-state vector and one selector Boolean per transition) and instantiated for each step of an
unrolling with ``z3.substitute``.  The conditions follow the explicit search exactly:

* a state that violates an invariant (or whose invariant cannot be evaluated) is bad and is
  not expanded;
* a step that stops at a failed check or a model error is a violation one step further;
* a state in which no step is enabled (a failing step counts as enabled) is checked against
  the ``final`` properties and, unless every non-daemon process has finished, is a deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import z3

from kverify.ir.system import TransitionSystem
from kverify.smt.encode import MODEL_ERROR, Encoder, StepCode, Vec, _and, _or, as_bool


@dataclass(frozen=True)
class Predicate:
    """A state property encoded over the template vector: holds, and evaluation fails."""

    name: str
    holds: z3.BoolRef
    err: z3.BoolRef


class SymbolicSystem:
    """A transition system encoded in z3, ready to be unrolled."""

    def __init__(self, system: TransitionSystem, bits: bool = False) -> None:
        self.system = system
        self.encoder = Encoder(system, bits)
        self.pre = self.encoder.vector("pre")
        self.post = self.encoder.vector("post")
        self.select = self.selectors("pre")
        self.steps: list[StepCode] = [self.encoder.transition(t, self.pre) for t in system.transitions]
        self.invariants = self._predicates("invariant")
        self.finals = self._predicates("final")
        self.props = [p.name for p in system.properties]
        self._relation = self._build_relation()
        self._terminal = _and(*(z3.Not(self._enabled(code)) for code in self.steps))

    def _predicates(self, kind: str) -> list[Predicate]:
        out = []
        for prop in self.system.properties:
            if prop.kind == kind and prop.expr is not None:
                v = self.encoder.expr(prop.expr, self.pre)
                out.append(Predicate(prop.name, as_bool(v.term), v.err))
        return out

    @staticmethod
    def _enabled(code: StepCode) -> z3.BoolRef:
        return _or(code.done, *code.fails.values())

    def _build_relation(self) -> z3.BoolRef:
        # One Boolean per transition says which step fires: Boolean selectors propagate far
        # better in the solver than an integer choice compared with every transition number.
        sel = self.select
        parts = [z3.PbEq([(x, 1) for x in sel], 1)]
        writers: dict[int, list[int]] = {}
        for tid, code in enumerate(self.steps):
            eqs = [self.post[i] == code.post[i] for i in sorted(code.written)]
            parts.append(z3.Implies(sel[tid], _and(code.done, *eqs)))
            for i in code.written:
                writers.setdefault(i, []).append(tid)
        for i, (x, y) in enumerate(zip(self.pre, self.post)):
            parts.append(_or(y == x, *(sel[tid] for tid in writers.get(i, ()))))
        return z3.And(*parts)

    # -------------------------------------------------------------- instantiation

    def at(self, term: z3.ExprRef, s: Vec) -> z3.ExprRef:
        """``term`` (over the template pre-state) instantiated on ``s``."""
        return z3.substitute(term, *zip(self.pre, s))

    def selectors(self, tag: str) -> list[z3.BoolRef]:
        """Fresh Booleans, one per transition, for the step taken at position ``tag``."""
        return [z3.Bool(f"t{t.tid}@{tag}") for t in self.system.transitions]

    def relation(self, s: Vec, t: Vec, select: list[z3.BoolRef]) -> z3.BoolRef:
        """Exactly one step, the one whose selector is true, runs to its end from ``s`` and
        reaches ``t``."""
        pairs = [*zip(self.pre, s), *zip(self.post, t), *zip(self.select, select)]
        return z3.substitute(self._relation, *pairs)

    # -------------------------------------------------------------- state conditions

    def invariants_hold(self, s: Vec) -> z3.BoolRef:
        """Every invariant evaluates without error and holds in ``s``."""
        ok = _and(*(z3.And(z3.Not(p.err), p.holds) for p in self.invariants))
        return self.at(ok, s)

    def done(self, s: Vec) -> z3.BoolRef:
        """Every non-daemon process has finished in ``s``."""
        procs = [s[p.pc_slot] == p.end_pc for p in self.system.processes if not p.daemon]
        return _and(*procs)

    def terminal(self, s: Vec) -> z3.BoolRef:
        """No step is enabled in ``s``."""
        return self.at(self._terminal, s)

    def state_bad(self, s: Vec, props: Iterable[str]) -> z3.BoolRef:
        """``s`` shows a violation of one of ``props`` (invariant, final, deadlock, or a model
        error evaluating an invariant or final predicate)."""
        wanted = set(props)
        inv_ok = _and(*(z3.And(z3.Not(p.err), p.holds) for p in self.invariants))
        cases: list[z3.BoolRef] = []
        for p in self.invariants:
            if p.name in wanted:
                cases.append(_and(z3.Not(p.err), z3.Not(p.holds)))
            if MODEL_ERROR in wanted:
                cases.append(p.err)
        at_end = _and(inv_ok, self._terminal)
        for p in self.finals:
            if p.name in wanted:
                cases.append(_and(at_end, z3.Not(p.err), z3.Not(p.holds)))
            if MODEL_ERROR in wanted:
                cases.append(_and(at_end, p.err))
        if "deadlock" in wanted and self.system.check_deadlock:
            cases.append(_and(at_end, z3.Not(self.done(self.pre))))
        return self.at(_or(*cases), s)

    def step_fails(self, s: Vec, props: Iterable[str]) -> z3.BoolRef:
        """The invariants hold in ``s`` and some step stops there with one of ``props``
        violated (a failed check or a model error)."""
        fails = self.fail_conditions(props)
        if not fails:
            return z3.BoolVal(False)
        inv_ok = (z3.And(z3.Not(p.err), p.holds) for p in self.invariants)
        return self.at(_and(*inv_ok, _or(*fails)), s)

    def fail_conditions(self, props: Iterable[str] | None = None) -> list[z3.BoolRef]:
        """Over the template pre-state: the conditions that some step fails one of ``props``."""
        wanted = set(props) if props is not None else None
        return [c for code in self.steps for p, c in code.fails.items() if wanted is None or p in wanted]

    def good(self, s: Vec) -> z3.BoolRef:
        """No property is violated in ``s`` or by a step from it."""
        return z3.Not(_or(self.state_bad(s, self.props), self.any_fail(s)))

    def any_fail(self, s: Vec, props: Sequence[str] | None = None) -> z3.BoolRef:
        """Some step from ``s`` stops with a violation of one of ``props`` (default: any)."""
        return self.at(_or(*self.fail_conditions(props)), s)
