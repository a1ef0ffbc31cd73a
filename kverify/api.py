"""The Python API: check a spec file, or an already built transition system.

>>> from kverify.api import check
>>> result = check("specs/mod_vs_cancel.kvs", variant="v5.13", max_states=1_000_000)
>>> result.verdict, result.violated
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from kverify.errors import KverifyError
from kverify.explore.compile import compile_system
from kverify.explore.frontier import make_frontier
from kverify.explore.postpass import postprocess
from kverify.explore.search import Limits, Observer, search
from kverify.explore.store import StateStore
from kverify.ir.system import TransitionSystem
from kverify.result import Checked, Result, Verdict


def load_system(spec_path: str, variant: str | None = None) -> TransitionSystem:
    """Parse, check and lower a spec (and the model it names) to a transition system."""
    from kverify.lang import load_spec

    return load_spec(spec_path, variant)


def list_model_variants(spec_path: str) -> list[tuple[str, str]]:
    """The front end's list of the variants of a spec's model."""
    from kverify.lang import list_variants

    return list_variants(spec_path)


def variants(spec_path: str) -> list[tuple[str, str]]:
    """The variants of a spec's model: (name, one-line description), ``reference`` first."""
    require_file(spec_path)
    return list_model_variants(spec_path)


def require_file(spec_path: str) -> None:
    """Raise a :class:`KverifyError` when ``spec_path`` is not a readable file."""
    if os.path.isdir(spec_path):
        raise KverifyError(
            f"{spec_path} is a directory, not a spec file",
            hint="give a .kvs file, or run `kverify check` with no argument to check specs/*.kvs",
        )
    if not os.path.isfile(spec_path):
        raise KverifyError(
            f"no such spec file: {spec_path}",
            hint="give the path of a .kvs file, e.g. specs/mod_vs_cancel.kvs",
        )


def check_system(
    system: TransitionSystem,
    *,
    max_states: int | None = None,
    max_depth: int | None = None,
    time_limit: float | None = None,
    strategy: str = "bfs",
    observer: Observer | None = None,
    por: bool = False,
    coverage: bool = False,
    min_switches: bool = False,
    fairness: bool = True,
    compare_por: bool = False,
) -> Result:
    """Run the explicit-state search on ``system`` (``strategy`` is ``"bfs"`` or ``"dfs"``;
    ``por`` turns partial-order reduction on; ``coverage`` measures executed statements and
    vacuous properties; ``min_switches`` rewrites each trace to a shortest one with the fewest
    context switches; ``fairness=False`` drops the spec's fairness assumptions for its liveness
    properties; ``compare_por`` also runs the full search, adds its figures and the reduction's
    ratios to the ``por`` statistics and checks that the two searches agree)."""
    limits = Limits(max_states=max_states, max_depth=max_depth, time_limit=time_limit)
    compiled = compile_system(system)
    store = StateStore()
    result = search(
        compiled, limits, observer, frontier=make_frontier(strategy), store=store, por=por
    )
    if compare_por:
        if not por:
            raise KverifyError(
                "comparing with the full search needs the reduced search",
                hint="drop --no-por and --strategy dfs",
            )
        # after Ctrl-C in the reduced search, do not start the full one
        interrupted = result.reason == "interrupted"
        full = None if interrupted else search(compiled, limits, observer, frontier=make_frontier(strategy))
        result = _compared(result, full)
    result = postprocess(compiled, store, result, coverage=coverage, min_switches=min_switches)
    disagreed = result.stats.extra.get("por", {}).get("agree") is False  # the full search's traces
    if por and result.violations and not min_switches and not disagreed:
        result = replace(result, notes=(
            *result.notes,
            "traces found with partial-order reduction need not be the shortest; "
            "--min-switches (shortest, fewest context switches) or --no-por gives shortest ones",
        ))
    if any(p.kind == "liveness" for p in system.properties) and result.reason != "interrupted":
        result = _with_liveness(compiled, result, fairness, max_states, time_limit, por)
    return result


def _compared(reduced: Result, full: Result | None) -> Result:
    """The reduced result with the full search's figures, the ratios, and whether the two
    searches reached the same verdict on every property.  They must: a disagreement is a bug
    in the reduction, so the full search's verdicts are reported then, with a note.  Ratios
    and the comparison need both searches complete (``full`` is None when it was not run)."""
    por = dict(reduced.stats.extra.get("por", {}))
    por["reduced_search_stopped"] = reduced.reason or None
    complete = full is not None and not reduced.reason and not full.reason
    por["full_search"] = None if full is None else {
        "states": full.stats.states,
        "transitions": full.stats.transitions,
        "seconds": round(full.stats.seconds, 6),
        "stopped": full.reason or None,
    }
    por["state_ratio"] = por["transition_ratio"] = por["agree"] = None
    if full is not None and complete:
        por["state_ratio"] = round(full.stats.states / max(reduced.stats.states, 1), 2)
        por["transition_ratio"] = round(full.stats.transitions / max(reduced.stats.transitions, 1), 2)
        por["agree"] = reduced.verdict == full.verdict and set(reduced.violated) == set(full.violated)
    stats = replace(reduced.stats, extra={**reduced.stats.extra, "por": por})
    if full is not None and full.reason == "interrupted" and not reduced.reason:
        # Ctrl-C in the full search stops the run like any other: no further spec is checked,
        # and a spec that held is not reported complete (its comparison was not)
        verdict = Verdict.INCOMPLETE if reduced.verdict is Verdict.HOLDS else reduced.verdict
        return replace(reduced, stats=stats, reason="interrupted", verdict=verdict)
    if full is None or por["agree"] is not False:
        return replace(reduced, stats=stats)
    note = (
        "the reduced and the full search disagree (violated with the reduction: "
        f"{', '.join(reduced.violated) or 'none'}; without: {', '.join(full.violated) or 'none'}): "
        "this is a bug in kverify's partial-order reduction, please report it; the verdicts "
        "shown are the full search's"
    )
    full_stats = replace(full.stats, extra={**full.stats.extra, "por": por})
    return replace(full, stats=full_stats, notes=(*full.notes, note))


def _with_liveness(compiled: Any, result: Result, fairness: bool, max_states: int | None,
                   time_limit: float | None, por: bool) -> Result:
    """``result`` with the verdicts of the liveness properties (checked on the full graph)."""

    from kverify.explore.liveness import FULL_GRAPH_NOTE, check_liveness

    try:
        outcome = check_liveness(compiled, fairness=fairness, max_states=max_states,
                                 time_limit=time_limit)
    except KeyboardInterrupt:
        return replace(result, notes=(*result.notes, "liveness: interrupted"))
    properties = dict(result.properties)
    properties.update(outcome.properties)
    violations = result.violations + outcome.violations
    notes = list(result.notes) + list(outcome.notes)
    if por and FULL_GRAPH_NOTE in notes:
        # one note, not two: the reduced run's figures are the safety search's
        notes[notes.index(FULL_GRAPH_NOTE)] = (
            f"liveness: checked on the full state graph ({outcome.states} states), without "
            "partial-order reduction, which does not preserve liveness; the states and "
            "transitions above are those of the reduced safety search"
        )
    verdict = result.verdict
    if violations:
        verdict = Verdict.VIOLATED
    elif Verdict.INCOMPLETE in outcome.properties.values() and verdict is Verdict.HOLDS:
        verdict = Verdict.INCOMPLETE
    reason = result.reason
    if not reason and verdict is Verdict.INCOMPLETE:
        limits = (n.removeprefix("liveness: ") for n in outcome.notes if "limit" in n)
        reason = next(limits, "liveness incomplete")
    return replace(result, properties=properties, violations=violations, notes=tuple(notes),
                   verdict=verdict, reason=reason)


def audit_por(system: TransitionSystem, max_states: int | None = None) -> tuple[int, list[str]]:
    """Check the independence premise of the partial-order reduction in every reachable state
    (a full search): returns the number of states audited and the problems found."""
    from kverify.explore.por import Dependencies, audit
    from kverify.explore.store import StateStore

    compiled = compile_system(system)
    store = StateStore()
    search(compiled, Limits(max_states=max_states), store=store)
    deps = Dependencies.of(system)
    problems: list[str] = []
    states = store.unpack_all(compiled.unpack)
    for state in states:
        problems.extend(p for p in audit(compiled, deps, state) if p not in problems)
    return len(states), problems


def check(
    spec_path: str,
    variant: str | None = None,
    *,
    max_states: int | None = None,
    max_depth: int | None = None,
    time_limit: float | None = None,
    strategy: str = "bfs",
    observer: Observer | None = None,
    por: bool = False,
    coverage: bool = False,
    min_switches: bool = False,
    fairness: bool = True,
    compare_por: bool = False,
) -> Result:
    """Load the spec at ``spec_path`` (optionally one variant of its model) and check it.

    Raises :class:`~kverify.errors.KverifyError` for a missing file or a mistake in the model
    or spec; every search outcome, including a reached limit, is a :class:`Result`.
    """
    return check_spec(
        spec_path,
        variant,
        max_states=max_states,
        max_depth=max_depth,
        time_limit=time_limit,
        strategy=strategy,
        observer=observer,
        por=por,
        coverage=coverage,
        min_switches=min_switches,
        fairness=fairness,
        compare_por=compare_por,
    ).result


def check_spec(spec_path: str, variant: str | None = None, **options: Any) -> Checked:
    """Like :func:`check`, also returning the transition system the spec lowered to (the
    exporters of ITF, HTML and SARIF need its layout and property locations)."""
    require_file(spec_path)
    Limits(
        max_states=options.get("max_states"),
        max_depth=options.get("max_depth"),
        time_limit=options.get("time_limit"),
    )  # validate early
    system = load_system(spec_path, variant)
    return Checked(spec_path, check_system(system, **options), system)
