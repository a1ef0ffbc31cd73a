"""Passes that run after a search on what it found: counterexample simplification and coverage.

A search interrupted with Ctrl-C skips them (its result is returned as it is, so nothing found
is lost), and so does a second Ctrl-C during a pass.
"""

from __future__ import annotations

from dataclasses import replace

from kverify.explore.compile import CompiledSystem
from kverify.explore.coverage import measure_coverage
from kverify.explore.store import StateStore
from kverify.explore.switches import with_fewest_switches
from kverify.result import Result

INTERRUPTED = "interrupted"


def postprocess(
    compiled: CompiledSystem,
    store: StateStore,
    result: Result,
    *,
    coverage: bool = False,
    min_switches: bool = False,
) -> Result:
    """``result`` with its traces simplified (``min_switches``) and coverage measured."""
    if not (coverage or min_switches):
        return result
    if result.reason == INTERRUPTED:
        return replace(result, notes=(*result.notes, "coverage and --min-switches skipped"))
    try:
        if min_switches and result.violations:
            result = with_fewest_switches(compiled, result)
        if coverage:
            measured = measure_coverage(compiled, store, complete=not result.reason)
            result = replace(result, coverage=measured)
    except KeyboardInterrupt:
        result = replace(result, notes=(*result.notes, "interrupted after the search"))
    return result
