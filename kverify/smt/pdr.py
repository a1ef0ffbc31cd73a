"""``prove --pdr``: an unbounded proof, as an inductive invariant that z3 checks.

Four stages, each cheaper than the next, stop at the first that settles the question:

1. **Sample.** The explicit engine visits the reachable states, up to ``sample`` of them.
   A violation it meets on the way is a real run: it is the answer, with its trace.
2. **Houdini.** Candidates mined from the sample ("this slot only takes these values") are
   kept where z3 proves them inductive (:func:`kverify.smt.houdini.houdini`).
3. **Strengthening.** When the sample is complete, counterexamples to induction are
   excluded one at a time by clauses true in every sampled state until the invariant is
   inductive and excludes every bad state (:func:`kverify.smt.houdini.strengthen`).
4. **IC3** (:mod:`kverify.smt.ic3`), on top of what Houdini proved and guided by the
   sample, when the sample was incomplete, no sample was taken, or strengthening met a
   sampled state (which would mean the engines disagree); it also finds the counterexample
   when a property is violated beyond the sample.

Whatever found the invariant, it is checked by fresh solvers (initiation, consecution,
safety) before it is reported.  The explicit sample steers the search
but proves nothing: a wrong or partial sample costs time, never soundness.
"""

from __future__ import annotations

import time
from dataclasses import replace

from kverify.explore.compile import compile_system
from kverify.ir.system import State, TransitionSystem
from kverify.result import Result, Stats, Verdict, Violation
from kverify.smt.extract import confirmed_run
from kverify.smt.houdini import HoudiniTimeout, candidates, houdini, sample_states, strengthen
from kverify.smt.ic3 import ic3
from kverify.smt.invariant import Clause, check_certificate, invariant_lines, merged, negated_cube
from kverify.smt.relation import SymbolicSystem


def pdr_result(system: TransitionSystem, timeout: float | None, sample_limit: int) -> Result:
    """Prove every safety property of ``system`` unboundedly, or find a violation."""
    started = time.perf_counter()
    deadline = None if timeout is None else started + timeout
    compiled = compile_system(system)
    sym = SymbolicSystem(system, bits=True)
    extra: dict[str, object] = {"engine": "ic3"}
    background: tuple[Clause, ...] = ()
    states: tuple[State, ...] = ()
    invariant: list[Clause] | None = None
    reason = ""
    try:
        if sample_limit:
            limit = None if timeout is None else max(timeout, 0.001)
            sample = sample_states(compiled, sample_limit, limit)
            if sample.result.violations:
                why = "a violation found by the explicit search that samples the states (IC3 not run)"
                if sample.result.reason:
                    why += f"; it stopped after {len(sample.states)} states (raise --sample for the rest)"
                return replace(sample.result, engine="smt-pdr", reason=why)
            states = sample.states
            extra["sampled states"] = len(states)
            extra["sample complete"] = sample.complete
            background, _ = houdini(sym, candidates(sym, states), deadline)
            extra["houdini clauses"] = len(background)
            if sample.complete:
                added = strengthen(sym, background, sample, deadline)
                if added is not None:
                    extra["strengthening clauses"] = len(added)
                    invariant = [*background, *added]
    except HoudiniTimeout:
        reason = "IC3 not started: the time limit (--timeout) ran out in the sample and Houdini"
    out = None
    if invariant is None and not reason:
        left = None if deadline is None else max(0.0, deadline - time.perf_counter())
        out = ic3(sym, left, background, states)
        extra.update({f"ic3 {k}": v for k, v in out.stats.items()})
        if out.status == "proved":
            invariant = [*background, *(negated_cube(c) for c in out.lemmas)]
        elif out.status == "unknown":
            reason = f"IC3 stopped: {out.reason}"
    properties = {p.name: Verdict.INCOMPLETE for p in system.properties}
    violations: tuple[Violation, ...] = ()
    if invariant is not None:
        broken = check_certificate(sym, invariant)
        if broken:
            raise AssertionError(f"the invariant found fails {broken}: a kverify bug")
        extra["invariant"] = invariant_lines(system, merged(sym, invariant))
        extra["method"] = "IC3" if out is not None else "Houdini and strengthening"
        verdict = Verdict.HOLDS
        properties = {p.name: Verdict.HOLDS for p in system.properties}
    elif out is not None and out.status == "violated":
        assert out.start is not None
        found = confirmed_run(compiled, out.start, out.steps, sym.props)
        verdict = Verdict.VIOLATED
        properties[found.prop] = Verdict.VIOLATED
        violations = (found,)
        reason = "IC3 stops at its first counterexample; the other properties are not decided"
    else:
        verdict = Verdict.INCOMPLETE
    return Result(
        spec=system.name,
        variant=system.variant,
        verdict=verdict,
        stats=Stats(states=len(states), seconds=time.perf_counter() - started, extra=extra),
        properties=properties,
        violations=violations,
        reason=reason,
        notes=system.notes,
        engine="smt-pdr",
    )
