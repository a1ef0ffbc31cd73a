"""Bounded model checking: unroll the transition relation from the initial states, depth by depth.

Depth is counted the way the explicit search counts the length of its traces: a state that
violates an invariant, deadlocks or breaks a ``final`` property at depth k ends a trace of k
steps; a step that fails a check or makes a model error from a state at depth k - 1 ends a
trace of k steps too (its last step stopped in the middle).  States before the last one
satisfy the invariants, because the explicit search does not expand a state that violates one.

At each depth the solver is asked for a violation of any property not yet violated; every
answer becomes a replayed trace and removes its property from the question, so each property
gets its shortest counterexample, as with breadth-first search.  When no path is as long as
the current depth, the unrolling has covered every run and the remaining properties hold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from kverify.explore.compile import CompiledSystem, compile_system
from kverify.explore.search import Limits, search
from kverify.ir.system import TransitionSystem
from kverify.result import Result, Stats, Verdict, Violation
from kverify.smt.encode import Vec
from kverify.smt.extract import confirmed_trace
from kverify.smt.relation import SymbolicSystem


@dataclass
class Unrolling:
    """A solver holding a path ``s_0 .. s_k`` from an initial state, extended step by step."""

    sym: SymbolicSystem
    solver: z3.Solver = field(init=False)
    states: list[Vec] = field(default_factory=list)
    selectors: list[list[z3.BoolRef]] = field(default_factory=list)

    queries: int = 0

    def __post_init__(self) -> None:
        # Bit-vectors go to the incremental SAT-based solver, which outruns the general
        # one by orders of magnitude on deep unrollings; integers need the general one.
        self.solver = z3.SolverFor("QF_BV") if self.sym.encoder.bits else z3.Solver()
        s0 = self.sym.encoder.vector("0")
        self.states.append(s0)
        self.solver.add(self.sym.encoder.initial(s0))

    @property
    def depth(self) -> int:
        return len(self.states) - 1

    def extend(self) -> None:
        """Require the invariants of the last state and add one more step."""
        k = len(self.states)
        last = self.states[-1]
        self.solver.add(self.sym.invariants_hold(last))
        nxt = self.sym.encoder.vector(str(k))
        select = self.sym.selectors(str(k - 1))
        self.solver.add(self.sym.relation(last, nxt, select))
        # The (sound) bounds of every slot help the bit-vector solver prune.
        self.solver.add(self.sym.encoder.domain(nxt))
        self.states.append(nxt)
        self.selectors.append(select)

    def check(self, *extra: z3.BoolRef) -> z3.CheckSatResult:
        """Is the path so far, with ``extra``, satisfiable?  ``extra`` is asked under a fresh
        assumption literal, retired afterwards, so the solver keeps what it learned."""
        self.queries += 1
        if not extra:
            result = self.solver.check()
        else:
            lit = z3.Bool(f"query@{self.queries}")
            self.solver.add(z3.Implies(lit, z3.And(*extra)))
            result = self.solver.check(lit)
            if result == z3.sat:
                self.model = self.solver.model()
            self.solver.add(z3.Not(lit))
            return result
        if result == z3.sat:
            self.model = self.solver.model()
        return result

    def value(self, term: z3.ExprRef) -> int:
        return self.sym.encoder.value(self.model, term)

    def start(self) -> tuple[int, ...]:
        """The initial state of the model found."""
        return tuple(self.value(x) for x in self.states[0])

    def steps(self) -> list[int]:
        """The transition fired at each position of the model found."""
        return [_chosen(self.model, select) for select in self.selectors]


def _chosen(model: z3.ModelRef, select: list[z3.BoolRef]) -> int:
    for tid, x in enumerate(select):
        if z3.is_true(model.eval(x, model_completion=True)):
            return tid
    raise AssertionError("no transition selected")


@dataclass
class BmcOutcome:
    """Per property, the shortest violation found; ``complete`` when every run was covered."""

    found: dict[str, Violation]
    depth: int
    complete: bool
    unknown: str = ""


REACH_EVERY = 4  # depths between two checks that some path is still as long as the depth


class _Unknown(Exception):
    """The solver answered unknown (a time limit, or it gave up)."""


def bmc(sym: SymbolicSystem, compiled: CompiledSystem, max_depth: int) -> BmcOutcome:
    """Look for violations of length 0 .. ``max_depth``."""
    un = Unrolling(sym)
    found: dict[str, Violation] = {}
    try:
        for k in range(max_depth + 1):
            if k > 0:
                _look(un, compiled, found, failing=True)
                un.extend()
                # Whether any path is k steps long: if none is, every run has been covered.
                # Asked every few depths only, as each question costs about as much as a search.
                if k % REACH_EVERY == 0 or k == max_depth:
                    reach = un.check()
                    if reach == z3.unsat:
                        return BmcOutcome(found, k, complete=True)
                    if reach != z3.sat:
                        raise _Unknown(un.solver.reason_unknown())
            _look(un, compiled, found, failing=False)
    except _Unknown as exc:
        return BmcOutcome(found, un.depth, complete=False, unknown=str(exc))
    return BmcOutcome(found, max_depth, complete=False)


def _look(un: Unrolling, compiled: CompiledSystem, found: dict[str, Violation], *, failing: bool) -> None:
    """Find every not yet violated property that can be violated at the current depth:
    in the last state, or (``failing``) by a step from it."""
    sym = un.sym
    while True:
        wanted = [p for p in sym.props if p not in found]
        if not wanted:
            return
        last = un.states[-1]
        bad = sym.step_fails(last, wanted) if failing else sym.state_bad(last, wanted)
        if z3.is_false(z3.simplify(bad)):
            return
        answer = un.check(bad)
        if answer == z3.unsat:
            return
        if answer != z3.sat:
            raise _Unknown(un.solver.reason_unknown())
        violation = confirmed_trace(compiled, un.start(), un.steps(), wanted, failing=failing)
        found[violation.prop] = violation


def bmc_result(sym: SymbolicSystem, compiled: CompiledSystem, max_depth: int) -> Result:
    """Bounded model checking to ``max_depth`` as a :class:`Result`.

    Properties with no violation are ``holds`` when the unrolling covered every run and
    ``incomplete`` (checked up to the bound only) otherwise."""
    started = time.perf_counter()
    out = bmc(sym, compiled, max_depth)
    seconds = time.perf_counter() - started
    system = sym.system
    open_verdict = Verdict.HOLDS if out.complete else Verdict.INCOMPLETE
    properties = {p.name: open_verdict for p in system.properties}
    for name in out.found:
        properties[name] = Verdict.VIOLATED
    verdict = Verdict.VIOLATED if out.found else open_verdict
    if out.unknown:
        reason = f"the solver gave up at depth {out.depth}: {out.unknown}"
    elif out.complete:
        reason = ""
    else:
        reason = (
            f"bounded check: no {'other ' if out.found else ''}violation up to depth {max_depth}; "
            "raise --bmc for more"
        )
    violations = sorted(out.found.values(), key=lambda v: len(v.trace) if v.trace else 0)
    return Result(
        spec=system.name,
        variant=system.variant,
        verdict=verdict,
        stats=Stats(max_depth=out.depth, seconds=seconds, extra={"engine": "z3 bmc"}),
        properties=properties,
        violations=tuple(violations),
        reason=reason if verdict is not Verdict.HOLDS else "",
        notes=system.notes,
        engine="smt-bmc",
    )


@dataclass(frozen=True)
class CrossCheck:
    """BMC against breadth-first search to one depth: per safety property, the length of the
    shortest violation each found within ``depth`` steps."""

    depth: int
    bfs: dict[str, int]
    bmc: dict[str, int]
    covered: bool  # BMC unrolled to ``depth``, or found that no run is that long

    @property
    def agrees(self) -> bool:
        return self.covered and self.bfs == self.bmc


def cross_check(system: TransitionSystem, depth: int) -> CrossCheck:
    """Check ``system`` to ``depth`` steps with both engines.  The unrolling is incremental,
    so equal answers mean: for every k <= ``depth``, BMC finds a violation of a property at
    depth k exactly when BFS finds one at depth <= k (each BMC trace is replayed on the
    explicit engine as it is found)."""
    compiled = compile_system(system)
    searched = search(compiled, Limits(max_depth=depth))
    sym = SymbolicSystem(system, bits=True)
    bfs = {
        v.prop: len(v.trace)
        for v in searched.violations
        if v.trace is not None and v.trace.loop is None and len(v.trace) <= depth and v.prop in sym.props
    }
    out = bmc(sym, compiled, depth)
    found = {p: len(v.trace) for p, v in out.found.items() if v.trace is not None}
    return CrossCheck(depth, bfs, found, out.depth == depth or out.complete)
