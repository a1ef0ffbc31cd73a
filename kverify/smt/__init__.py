"""The symbolic engine: the IR encoded in z3, for BMC, induction, k-induction and Spacer.

Importing this package imports z3; the rest of kverify imports it only when a symbolic mode
is asked for (``kverify prove``), so ``kverify check`` does not pay for it.

:func:`prove_system` runs one mode and returns the same :class:`~kverify.result.Result` as the
explicit engine; every trace in it has been replayed by the explicit evaluator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from kverify.errors import KverifyError
from kverify.explore.compile import compile_system
from kverify.explore.search import Limits
from kverify.ir.system import TransitionSystem
from kverify.result import Result, Stats, Verdict

MODES = ("bmc", "induction", "k-induction", "pdr")
PDR_ENGINES = ("ic3", "spacer")


@dataclass(frozen=True)
class ProveOptions:
    """What to prove and within which bounds.

    ``depth``: the BMC bound (also the bound of the BMC that finds the trace when Spacer
    reports a violation); ``k``: the largest k of k-induction; ``timeout``: seconds the PDR
    engine may run; ``max_states``: bound of the explicit search that decides whether a
    counterexample to induction is reachable; ``engine``: what ``pdr`` runs, kverify's own
    IC3 over the bit-vector encoding (``ic3``) or z3's Spacer over integers (``spacer``);
    ``sample``: how many states the explicit search may visit to guide ``ic3`` (0: none).
    """

    mode: str = "bmc"
    depth: int = 25
    k: int = 3
    timeout: float | None = 600.0
    max_states: int | None = 2_000_000
    engine: str = "ic3"
    sample: int = 100_000


def prove_system(system: TransitionSystem, options: ProveOptions) -> Result:
    """Run the symbolic mode ``options.mode`` on ``system``.  The symbolic engine encodes
    safety only: a liveness property is never reported as holding."""
    return _safety_only(system, _prove(system, options))


def _safety_only(system: TransitionSystem, result: Result) -> Result:
    liveness = [p.name for p in system.properties if p.kind == "liveness"]
    if not liveness:
        return result
    properties = dict(result.properties)
    for name in liveness:
        if properties.get(name) is Verdict.HOLDS:
            properties[name] = Verdict.INCOMPLETE
    verdict = Verdict.INCOMPLETE if result.verdict is Verdict.HOLDS else result.verdict
    note = f"liveness ({', '.join(liveness)}): not checked by prove, which encodes safety only; use check"
    return replace(result, verdict=verdict, properties=properties, notes=(*result.notes, note))


def _prove(system: TransitionSystem, options: ProveOptions) -> Result:
    from kverify.smt.bmc import bmc_result
    from kverify.smt.induction import Reachability, induction_result, k_induction_result
    from kverify.smt.relation import SymbolicSystem

    if options.mode not in MODES:
        raise KverifyError(f"unknown proof mode {options.mode!r}", hint="one of " + ", ".join(MODES))
    compiled = compile_system(system)
    if options.mode == "pdr":
        return _pdr(system, options)
    sym = SymbolicSystem(system, bits=True)
    if options.mode == "bmc":
        return bmc_result(sym, compiled, options.depth)
    reach = Reachability(compiled, Limits(max_states=options.max_states))
    if options.mode == "induction":
        return induction_result(sym, compiled, reach)
    return k_induction_result(sym, compiled, reach, options.k)


def _pdr(system: TransitionSystem, options: ProveOptions) -> Result:
    if options.engine not in PDR_ENGINES:
        raise KverifyError(f"unknown PDR engine {options.engine!r}", hint="one of " + ", ".join(PDR_ENGINES))
    if options.engine == "spacer":
        return _spacer(system, options)
    from kverify.smt.pdr import pdr_result

    return pdr_result(system, options.timeout, options.sample)


def _spacer(system: TransitionSystem, options: ProveOptions) -> Result:
    from kverify.smt.bmc import bmc_result
    from kverify.smt.relation import SymbolicSystem
    from kverify.smt.spacer import show_invariant, spacer

    started = time.perf_counter()
    out = spacer(SymbolicSystem(system, bits=False), options.timeout)
    if out.status == "violated":
        # Spacer's derivation is not a trace; BMC finds the shortest one, replayed as always.
        found = bmc_result(SymbolicSystem(system, bits=True), compile_system(system), options.depth)
        return _with(found, "smt-pdr", time.perf_counter() - started, {})
    proved = out.status == "proved"
    verdict = Verdict.HOLDS if proved else Verdict.INCOMPLETE
    extra: dict[str, object] = {}
    if out.invariant is not None:
        extra["invariant"] = show_invariant(system, out.invariant)
    return Result(
        spec=system.name,
        variant=system.variant,
        verdict=verdict,
        stats=Stats(seconds=out.seconds, extra=extra),
        properties={p.name: verdict for p in system.properties},
        reason="" if proved else f"Spacer stopped: {out.reason}",
        notes=system.notes,
        engine="smt-pdr",
    )


def _with(result: Result, engine: str, seconds: float, extra: dict[str, object]) -> Result:
    stats = Stats(max_depth=result.stats.max_depth, seconds=seconds, extra={**result.stats.extra, **extra})
    return Result(
        spec=result.spec,
        variant=result.variant,
        verdict=result.verdict,
        stats=stats,
        properties=result.properties,
        violations=result.violations,
        reason=result.reason,
        notes=result.notes,
        engine=engine,
    )


__all__ = ["MODES", "PDR_ENGINES", "ProveOptions", "prove_system"]
