"""Unbounded proofs by IC3 / property-directed reachability over the finite-domain encoding.

Every slot of a spec ranges over a small finite set (the sound ranges of
:class:`~kverify.smt.encode.Ranges`), so the system is finite-state, and IC3 as it was made for
hardware applies directly (Bradley, "SAT-Based Model Checking without Unrolling", VMCAI 2011;
Een, Mishchenko, Brayton, "Efficient Implementation of Property Directed Reachability",
FMCAD 2011).  Its literals are slot equalities ``slot == value``; a *cube* is a conjunction of
them (a set of states), a *lemma* the negation of a cube.  The solver is z3's incremental
bit-vector (SAT) solver on the same one-step relation BMC unrolls.

* Frames ``F_0 = init``, ``F_1 .. F_k``: each over-approximates the states reachable in at
  most i steps; a lemma is stored once, at the highest frame it holds in, under that frame's
  activation literal, so "F_i" is the assumptions of frames i .. k.
* A state of ``F_k`` that is bad (some property violated in it or by a step from it) is
  *lifted* to a cube of states that are all bad (an unsatisfiable core of the state's literals
  against "not bad"), and blocked: a cube is blocked at level i when no state of ``F_{i-1}``
  outside it has a step into it (relative induction).  Otherwise its predecessor, lifted the
  same way (every state of the cube has the same step, enabled, into the blocked cube), is
  blocked first, one level down.
* A blocked cube is generalised: the core of the relative-induction query drops the
  literals it did not need, and each remaining literal is tried for dropping (the cube must
  stay disjoint from the initial states).
* After each level, lemmas are pushed forward; when a frame has no lemma left, two frames are
  equal and their lemmas are an inductive invariant excluding every bad state.
* A cube that meets an initial state is a real counterexample: lifting makes every state of
  a cube take the recorded step into its child, so the chain of steps from that initial state
  ends in a bad state.  The chain is replayed by the explicit engine.

The invariant found is checked again by fresh solvers before it is reported
(:func:`kverify.smt.invariant.check_certificate`): initiation, consecution and safety.

A *background* invariant (clauses already proved inductive, from
:mod:`kverify.smt.houdini`) is assumed in every frame; the invariant found is then the
background and the lemmas together.

Steps are taken only from states that satisfy the spec's ``invariant`` declarations, as the
explicit search does; a state that violates one is bad.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import z3

from kverify.ir.system import State
from kverify.smt.encode import _and
from kverify.smt.houdini import StateSet
from kverify.smt.invariant import Clause, Cube, bad_condition, conjunction, step_condition
from kverify.smt.relation import SymbolicSystem


@dataclass(frozen=True)
class Ic3Outcome:
    """``status`` is ``proved``, ``violated`` or ``unknown``.  ``lemmas`` (proved): the cubes
    whose negations make up the inductive invariant.  ``start`` and ``steps`` (violated): an
    initial state and the transitions of a run to a bad state."""

    status: str
    seconds: float
    lemmas: tuple[Cube, ...] = ()
    start: State | None = None
    steps: tuple[int, ...] = ()
    reason: str = ""
    stats: dict[str, int] = field(default_factory=dict)


@dataclass(order=True)
class _Obligation:
    level: int
    order: int
    cube: Cube = field(compare=False)
    step: int | None = field(compare=False, default=None)  # the transition into ``child``
    child: _Obligation | None = field(compare=False, default=None)


class _Predecessor(NamedTuple):
    state: State
    tid: int


class _Timeout(Exception):
    pass


class Ic3:
    """IC3 on one symbolic system (bit-vector encoding)."""

    def __init__(
        self,
        sym: SymbolicSystem,
        timeout: float | None = None,
        background: Sequence[Clause] = (),
        sample: Sequence[State] = (),
    ) -> None:
        assert sym.encoder.bits, "IC3 works on the bit-vector encoding"
        self.sym = sym
        self.enc = sym.encoder
        self.deadline = None if timeout is None else time.perf_counter() + timeout
        self.initial = sym.system.initial_states
        self.pre, self.post = sym.pre, sym.post
        self.queries = 0
        self.order = itertools.count()
        self.fresh = itertools.count()
        self._lits: dict[tuple[int, int, int], z3.BoolRef] = {}
        # Reachable states: the sample, and the initial states in case it missed some.
        self.sample = StateSet(tuple(dict.fromkeys([*self.initial, *sample]))) if sample else StateSet(())

        # Main solver: the relation (under ``t_on``), the initial states (under ``init_on``),
        # the bad states (under ``bad_on``), and the lemmas of each frame under its literal.
        self.solver = z3.SolverFor("QF_BV")
        self.t_on, self.init_on, self.bad_on = z3.Bools("ic3.T ic3.init ic3.bad")
        bad = bad_condition(sym, self.pre)
        known = conjunction(sym, background, self.pre)
        self.solver.add(self.enc.domain(self.pre), known)
        self.solver.add(z3.Implies(self.t_on, step_condition(sym)))
        self.solver.add(z3.Implies(self.init_on, self.enc.initial(self.pre)))
        self.solver.add(z3.Implies(self.bad_on, bad))
        # Lifting solver: pre-state literals against "not bad" or "this step misses the cube".
        self.lifter = z3.SolverFor("QF_BV")
        self.lifter.add(self.enc.domain(self.pre), known)
        self.not_bad = z3.Not(bad)
        self.frames: list[list[Cube]] = [[], []]  # lemmas stored at each level (0 unused)
        self.acts: list[z3.BoolRef] = [self.init_on, z3.Bool("ic3.F1")]

    # -------------------------------------------------------------- encoding helpers

    def _lit(self, side: int, slot: int, value: int) -> z3.BoolRef:
        """A Boolean equivalent to ``slot == value`` in the pre (0) or post (1) state, defined
        in both solvers on first use."""
        key = (side, slot, value)
        lit = self._lits.get(key)
        if lit is None:
            lit = z3.Bool(f"ic3.{'pq'[side]}{slot}={value}")
            vec = self.pre if side == 0 else self.post
            definition = lit == (vec[slot] == self.enc.num(value))
            self.solver.add(definition)
            if side == 0:
                self.lifter.add(definition)
            self._lits[key] = lit
        return lit

    def _clause(self, cube: Cube) -> z3.BoolRef:
        """The lemma excluding ``cube`` (over the pre-state)."""
        return z3.Or(*(z3.Not(self._lit(0, i, v)) for i, v in cube))

    def _frame(self, level: int) -> list[z3.BoolRef]:
        """Assumptions that select the lemmas of ``F_level``."""
        if level == 0:
            return [self.init_on]
        return self.acts[level:]

    def _check(self, solver: z3.Solver, assumptions: list[z3.BoolRef]) -> z3.CheckSatResult:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _Timeout
        self.queries += 1
        answer = solver.check(*assumptions)
        if answer == z3.unknown:
            raise _Timeout
        return answer

    def _temporary(self, solver: z3.Solver, formula: z3.BoolRef) -> z3.BoolRef:
        """``formula`` under a fresh literal; retire it with :meth:`_retire`."""
        lit = z3.Bool(f"ic3.q{next(self.fresh)}")
        solver.add(z3.Implies(lit, formula))
        return lit

    @staticmethod
    def _retire(solver: z3.Solver, lit: z3.BoolRef) -> None:
        solver.add(z3.Not(lit))

    def _state(self, model: z3.ModelRef) -> State:
        return self.enc.values(model, self.pre)

    def _chosen(self, model: z3.ModelRef) -> int:
        for tid, x in enumerate(self.sym.select):
            if z3.is_true(model.eval(x, model_completion=True)):
                return tid
        raise AssertionError("no transition selected")

    # -------------------------------------------------------------- cubes

    def _meets_initial(self, cube: Cube) -> State | None:
        for state in self.initial:
            if all(state[i] == v for i, v in cube):
                return state
        return None

    def _lift(self, state: State, target: z3.BoolRef) -> Cube:
        """The smallest part of ``state`` (an unsatisfiable core) under which ``target``
        cannot hold: every state of the returned cube satisfies ``not target``."""
        q = self._temporary(self.lifter, target)
        lits = {self._lit(0, i, v).get_id(): (i, v) for i, v in enumerate(state)}
        answer = self._check(self.lifter, [q, *(self._lit(0, i, v) for i, v in enumerate(state))])
        assert answer == z3.unsat, "lifting a state that does not have the property"
        core = [lits[c.get_id()] for c in self.lifter.unsat_core() if c.get_id() in lits]
        self._retire(self.lifter, q)
        return tuple(sorted(core))

    def _lift_bad(self, state: State) -> Cube:
        return self._lift(state, self.not_bad)

    def _lift_step(self, state: State, tid: int, cube: Cube) -> Cube:
        """States like ``state`` that satisfy the invariants and whose step ``tid`` runs to
        its end into ``cube``."""
        code = self.sym.steps[tid]
        lands = _and(*(code.post[i] == self.enc.num(v) for i, v in cube))
        ok = z3.And(self.sym.invariants_hold(self.pre), code.done, lands)
        return self._lift(state, z3.Not(ok))

    # -------------------------------------------------------------- relative induction

    def _relative(self, cube: Cube, level: int) -> Cube | _Predecessor:
        """Is ``cube`` unreachable in one step from ``F_level`` outside it?  If so, the part of
        ``cube`` the answer needed (a cube); if not, a predecessor state and its step."""
        q = self._temporary(self.solver, self._clause(cube))
        posts = {self._lit(1, i, v).get_id(): (i, v) for i, v in cube}
        assumptions = [*self._frame(level), self.t_on, q, *(self._lit(1, i, v) for i, v in cube)]
        answer = self._check(self.solver, assumptions)
        if answer == z3.sat:
            model = self.solver.model()
            out: Cube | _Predecessor = _Predecessor(self._state(model), self._chosen(model))
        else:
            core = {posts[c.get_id()] for c in self.solver.unsat_core() if c.get_id() in posts}
            out = self._keep_disjoint(tuple(sorted(core)), cube)
        self._retire(self.solver, q)
        return out

    def _keep_disjoint(self, small: Cube, full: Cube) -> Cube:
        """``small`` (part of ``full``), with literals of ``full`` added back until it meets
        no initial state."""
        have = dict(small)
        while (state := self._meets_initial(tuple(sorted(have.items())))) is not None:
            i, v = next((i, v) for i, v in full if state[i] != v)
            have[i] = v
        return tuple(sorted(have.items()))

    def _generalize(self, cube: Cube, level: int) -> Cube:
        """Drop literals of a cube blocked at ``level`` while it stays blocked.

        With a sample of reachable states, a literal is not dropped when the smaller cube
        would contain a sampled state (its lemma could hold in a low frame but never in the
        invariant), and the first try is the smallest cube the sample allows."""
        guided = bool(self.sample) and not self.sample.meets(cube)
        if guided:
            small = self.sample.shrink(cube)
            if small != cube and self._meets_initial(small) is None:
                core = self._relative(small, level - 1)
                if not isinstance(core, _Predecessor):
                    cube = core
        for lit in list(cube):
            if lit not in cube or len(cube) == 1:
                continue
            smaller = tuple(x for x in cube if x != lit)
            if self._meets_initial(smaller) is not None or (guided and self.sample.meets(smaller)):
                continue
            core = self._relative(smaller, level - 1)
            if not isinstance(core, _Predecessor):
                cube = core
        return cube

    # -------------------------------------------------------------- frames

    @property
    def top(self) -> int:
        return len(self.frames) - 1

    def _add_lemma(self, cube: Cube, level: int) -> None:
        for i in range(1, level + 1):
            keep = set(cube)
            self.frames[i] = [c for c in self.frames[i] if not keep <= set(c)]
        self.frames[level].append(cube)
        self.solver.add(z3.Implies(self.acts[level], self._clause(cube)))

    def _new_frame(self) -> None:
        self.frames.append([])
        self.acts.append(z3.Bool(f"ic3.F{len(self.acts)}"))

    def _propagate(self) -> int | None:
        """Push lemmas forward; the level of a frame that became empty (a fixpoint), if any."""
        for level in range(1, self.top):
            for cube in list(self.frames[level]):
                if self._relative_plain(cube, level):
                    self.frames[level].remove(cube)
                    self._add_lemma(cube, level + 1)
            if not self.frames[level]:
                return level
        return None

    def _relative_plain(self, cube: Cube, level: int) -> bool:
        """Does no state of ``F_level`` have a step into ``cube``?"""
        assumptions = [*self._frame(level), self.t_on, *(self._lit(1, i, v) for i, v in cube)]
        return bool(self._check(self.solver, assumptions) == z3.unsat)

    # -------------------------------------------------------------- the loop

    def run(self) -> Ic3Outcome:
        started = time.perf_counter()
        try:
            found = self._run()
        except _Timeout:
            return Ic3Outcome("unknown", time.perf_counter() - started, reason="time limit reached",
                              stats=self._stats())  # fmt: skip
        seconds = time.perf_counter() - started
        if isinstance(found, _Obligation):
            start, steps = self._chain(found)
            return Ic3Outcome("violated", seconds, start=start, steps=steps, stats=self._stats())
        return Ic3Outcome("proved", seconds, lemmas=found, stats=self._stats())

    def _stats(self) -> dict[str, int]:
        return {"frames": self.top, "queries": self.queries, "lemmas": sum(map(len, self.frames))}

    def _run(self) -> tuple[Cube, ...] | _Obligation:
        if self._check(self.solver, [self.init_on, self.bad_on]) == z3.sat:
            state = self._state(self.solver.model())
            return _Obligation(0, 0, tuple(enumerate(state)))
        while True:
            # Block every bad state of the top frame.
            while self._check(self.solver, [*self._frame(self.top), self.bad_on]) == z3.sat:
                state = self._state(self.solver.model())
                bad = _Obligation(self.top, next(self.order), self._lift_bad(state))
                failed = self._block(bad)
                if failed is not None:
                    return failed
            self._new_frame()
            fixed = self._propagate()
            if fixed is not None:
                return tuple(c for level in range(fixed + 1, len(self.frames)) for c in self.frames[level])

    def _block(self, first: _Obligation) -> _Obligation | None:
        """Block ``first`` and everything it leads to; an obligation that meets an initial
        state (a counterexample) if that fails."""
        queue = [first]
        while queue:
            ob = heapq.heappop(queue)
            if self._meets_initial(ob.cube) is not None:
                return ob
            if self._already_blocked(ob.cube, ob.level):
                continue
            answer = self._relative(ob.cube, ob.level - 1)
            if isinstance(answer, _Predecessor):
                lifted = self._lift_step(answer.state, answer.tid, ob.cube)
                heapq.heappush(queue, _Obligation(ob.level - 1, next(self.order), lifted, answer.tid, ob))
                heapq.heappush(queue, ob)
                continue
            cube = self._generalize(answer, ob.level)
            level = ob.level
            while level < self.top and self._relative_plain(cube, level):
                level += 1
            self._add_lemma(cube, level)
            if level < self.top:
                heapq.heappush(queue, _Obligation(level + 1, next(self.order), ob.cube, ob.step, ob.child))
        return None

    def _already_blocked(self, cube: Cube, level: int) -> bool:
        """A lemma of ``F_level`` already excludes ``cube``."""
        have = set(cube)
        return any(set(c) <= have for lv in range(level, len(self.frames)) for c in self.frames[lv])

    def _chain(self, ob: _Obligation) -> tuple[State, tuple[int, ...]]:
        start = self._meets_initial(ob.cube)
        if start is None:  # the initial state was bad itself
            start = tuple(v for _, v in ob.cube)
        steps: list[int] = []
        node: _Obligation | None = ob
        while node is not None and node.step is not None:
            steps.append(node.step)
            node = node.child
        return start, tuple(steps)


def ic3(
    sym: SymbolicSystem,
    timeout: float | None = None,
    background: Sequence[Clause] = (),
    sample: Sequence[State] = (),
) -> Ic3Outcome:
    """Run IC3 on ``sym`` (bit-vector encoding), assuming the inductive invariant
    ``background`` (which must hold initially) in every frame, its generalisation guided by
    ``sample`` (states known to be reachable)."""
    return Ic3(sym, timeout, background, sample).run()
