"""Candidate invariants guessed from explicit states, kept only where z3 proves them.

The explicit engine visits (up to a bound) the states a spec reaches; every slot takes only
a few of its values there.  Each such fact is a *candidate* clause, ``slot in {seen
values}``.  Houdini (Flanagan and Leino, "Houdini, an Annotation Assistant for
ESC/Java", FME 2001) then keeps the largest subset that is inductive: assume every candidate
in a state, take a step, and drop the candidates some successor breaks, until no step breaks
any.  What is left holds in every reachable state whatever the sample was, because z3 proved
it inductive; the sample only decides how strong it is.

Candidates over pairs of slots ("these two values never occur together") were tried and left
out: they number in the thousands, and Houdini drops them a few at a time (50 s of rounds on
``destroy_worker``, against seconds for the whole proof without them).  What Houdini keeps, :func:`strengthen`
completes against counterexamples to induction when the sample holds every reachable state;
otherwise IC3 (:mod:`kverify.smt.ic3`) starts from it instead of from nothing.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import z3

from kverify.explore.compile import CompiledSystem
from kverify.explore.search import Limits, search
from kverify.explore.store import StateStore
from kverify.ir.system import State
from kverify.result import Result
from kverify.smt.invariant import (
    Clause,
    Cube,
    bad_condition,
    clause_formula,
    conjunction,
    holds_in,
    negated_cube,
    step_condition,
)
from kverify.smt.relation import SymbolicSystem


class HoudiniTimeout(Exception):
    pass


@dataclass(frozen=True)
class Sample:
    """The states an explicit search visited, whether it saw all of them, and its result
    (whose violations are real runs, with their traces)."""

    states: tuple[State, ...]
    complete: bool
    result: Result


class StateSet:
    """A set of states, asked which cubes (conjunctions of slot equalities) meet it: one
    bitmask per literal, bit j set when state j has it."""

    def __init__(self, states: Sequence[State]) -> None:
        members: dict[tuple[int, int], list[int]] = {}
        for j, state in enumerate(states):
            for lit in enumerate(state):
                members.setdefault(lit, []).append(j)
        self.has = {lit: _bits(js, len(states)) for lit, js in members.items()}
        self.everything = (1 << len(states)) - 1

    def __bool__(self) -> bool:
        return self.everything != 0

    def meets(self, cube: Iterable[tuple[int, int]]) -> bool:
        mask = self.everything
        for lit in cube:
            mask &= self.has.get(lit, 0)
            if not mask:
                return False
        return True

    def shrink(self, cube: Cube) -> Cube:
        """Drop literals of ``cube`` greedily while it meets no state of the set; ``cube``
        itself must meet none.  The rarest literals (held by the fewest states) are tried
        first: on ``mod_vs_cancel`` v5.13 that halves the clauses strengthening needs (1,611
        against 2,996 in slot order) and its time.  Linear: a literal may go when the
        literals kept before it and every literal after it still meet no state."""
        order = sorted(cube, key=lambda lit: (self.has.get(lit, 0).bit_count(), lit))
        masks = [self.has.get(lit, 0) for lit in order]
        after = [self.everything] * (len(order) + 1)
        for k in range(len(order) - 1, -1, -1):
            after[k] = after[k + 1] & masks[k]
        assert after[0] == 0, "shrinking a cube that meets the set"
        kept, mask = [], self.everything
        for k, lit in enumerate(order):
            if mask & after[k + 1]:  # dropping it would meet a state
                kept.append(lit)
                mask &= masks[k]
        return tuple(sorted(kept))


def _bits(positions: list[int], size: int) -> int:
    """The integer with exactly these bits set, built in one pass (``|=`` bit by bit would
    copy the integer each time)."""
    buf = bytearray((size + 7) // 8)
    for j in positions:
        buf[j >> 3] |= 1 << (j & 7)
    return int.from_bytes(buf, "little")


def sample_states(compiled: CompiledSystem, max_states: int, time_limit: float | None = None) -> Sample:
    """The states a breadth-first search visits, up to ``max_states`` of them and within
    ``time_limit`` seconds."""
    store = StateStore()
    result = search(compiled, Limits(max_states=max_states, time_limit=time_limit), store=store)
    states = tuple(compiled.unpack(p) for p in store.packed)
    return Sample(states, not result.reason and not result.violations, result)


def candidates(sym: SymbolicSystem, states: Sequence[State]) -> list[Clause]:
    """Clauses true in every state of ``states``: each slot stays within its seen values
    (where that says more than the slot's range)."""
    found: list[Clause] = []
    for i, column in enumerate(zip(*states)):
        values = sorted(set(column))
        lo, hi = sym.encoder.ranges.slot[i]
        if len(values) < hi - lo + 1:
            found.append(tuple((i, v, True) for v in values))
    return found


def strengthen(
    sym: SymbolicSystem,
    known: Sequence[Clause],
    sample: Sample,
    deadline: float | None = None,
) -> tuple[Clause, ...] | None:
    """Clauses that make ``known`` (an inductive invariant) exclude every bad state and stay
    inductive, when the sample is every reachable state; None if a counterexample to
    induction starts in a sampled state (a real violation: IC3 then finds its trace).

    Each round asks for a state of the invariant so far that is bad or has a step out of it;
    that state is not in the sample (a sampled state is reachable, and its successors are
    sampled too), so the cube of it, shrunk while it meets no sampled state, is excluded.
    Every clause added holds in every sampled state, the initial states among them.  With a
    complete sample this ends, since each round excludes a new unreachable state; with an
    incomplete one it may not, and the deadline stops it (HoudiniTimeout)."""
    seen = StateSet(sample.states)
    inside = set(sample.states)
    solver = z3.SolverFor("QF_BV")
    step = z3.Bool("strengthen.step")
    bad = z3.Bool("strengthen.bad")
    solver.add(sym.encoder.domain(sym.pre), conjunction(sym, known, sym.pre))
    solver.add(z3.Implies(step, step_condition(sym)))
    solver.add(z3.Implies(bad, bad_condition(sym, sym.pre)))
    added: list[Clause] = []
    queries = itertools.count()

    def exclude(model: z3.ModelRef) -> Clause | None:
        state = sym.encoder.values(model, sym.pre)
        if state in inside:
            return None
        clause = negated_cube(seen.shrink(tuple(enumerate(state))))
        added.append(clause)
        solver.add(clause_formula(sym, clause, sym.pre))
        return clause

    def sat(*assumptions: z3.BoolRef) -> bool:
        if deadline is not None and time.perf_counter() > deadline:
            raise HoudiniTimeout
        answer = solver.check(*assumptions)
        if answer == z3.unknown:
            raise HoudiniTimeout
        return bool(answer == z3.sat)

    # Assuming more in the pre-state keeps a query unsatisfiable, so each clause needs to
    # be shown to survive a step only once (``known`` is inductive on its own).
    todo: list[Clause] = []
    while sat(bad):
        clause = exclude(solver.model())
        if clause is None:
            return None
        todo.append(clause)
    while todo:
        clause = todo.pop()
        q = z3.Bool(f"strengthen.q{next(queries)}")
        solver.add(z3.Implies(q, z3.Not(clause_formula(sym, clause, sym.post))))
        if sat(step, q):
            new = exclude(solver.model())
            if new is None:
                return None
            todo += [clause, new]
        solver.add(z3.Not(q))
    return tuple(added)


def houdini(
    sym: SymbolicSystem, clauses: Sequence[Clause], deadline: float | None = None
) -> tuple[tuple[Clause, ...], int]:
    """The largest subset of ``clauses`` that holds initially and is inductive (relative to
    the spec's invariants and the slot ranges), and the number of solver rounds it took."""
    alive = {i for i, c in enumerate(clauses) if all(holds_in(c, s) for s in sym.system.initial_states)}
    solver = z3.SolverFor("QF_BV")
    solver.add(step_condition(sym))
    acts = [z3.Bool(f"houdini.{i}") for i in range(len(clauses))]
    posts = [z3.Bool(f"houdini.post{i}") for i in range(len(clauses))]
    for i, c in enumerate(clauses):
        solver.add(z3.Implies(acts[i], clause_formula(sym, c, sym.pre)))
        solver.add(posts[i] == clause_formula(sym, c, sym.post))
    rounds = 0
    while True:
        if deadline is not None and time.perf_counter() > deadline:
            raise HoudiniTimeout
        if not alive:
            return (), rounds
        rounds += 1
        q = z3.Bool(f"houdini.round{rounds}")
        solver.add(z3.Implies(q, z3.Or(*(z3.Not(posts[i]) for i in alive))))
        answer = solver.check(q, *(acts[i] for i in alive))
        if answer == z3.unsat:
            return tuple(clauses[i] for i in sorted(alive)), rounds
        if answer == z3.unknown:
            raise HoudiniTimeout
        model = solver.model()
        alive = {i for i in alive if z3.is_true(model.eval(posts[i], model_completion=True))}
        solver.add(z3.Not(q))
