"""BMC agrees with breadth-first search: same properties violated, at the same depth, for
every bound; and every trace it returns replays on the explicit engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from ir_builder import (
    counter_race,
    deep_invariant,
    failing_check,
    lock_order_deadlock,
    locked_counter,
    overflow,
)
from test_random_systems import systems

from kverify.api import load_system
from kverify.explore.compile import compile_system
from kverify.explore.search import search
from kverify.ir.system import TransitionSystem
from kverify.smt.bmc import bmc, bmc_result, cross_check
from kverify.smt.relation import SymbolicSystem
from kverify.trace.replay import replay

EXAMPLES = [counter_race, locked_counter, lock_order_deadlock, deep_invariant, overflow, failing_check]


def shortest_bfs(system: TransitionSystem) -> tuple[dict[str, int], int]:
    result = search(compile_system(system))
    return {v.prop: len(v.trace) for v in result.violations if v.trace}, result.stats.max_depth


def agree(system: TransitionSystem, bits: bool, complete: bool = False) -> None:
    compiled = compile_system(system)
    bfs, depth = shortest_bfs(system)
    sym = SymbolicSystem(system, bits=bits)
    out = bmc(sym, compiled, depth + 1)
    got = {p: len(v.trace) for p, v in out.found.items() if v.trace}
    assert got == bfs
    if complete:  # every run ends by the explicit search's depth: BMC sees them all
        assert out.complete
    for v in out.found.values():
        assert v.trace is not None
        replay(system, compiled, v.trace)


@pytest.mark.parametrize("make", EXAMPLES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bits", [True, False], ids=["bitvector", "integer"])
def test_bmc_matches_bfs_on_examples(make, bits):
    agree(make(), bits, complete=make is not overflow)


@pytest.mark.parametrize("k", range(6))
def test_violation_at_depth_k_exactly_when_bfs_finds_one_by_k(k):
    system = deep_invariant(limit=3, top=6)
    bfs, _ = shortest_bfs(system)
    out = bmc(SymbolicSystem(system, bits=True), compile_system(system), k)
    assert bool(out.found) == (min(bfs.values()) <= k)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(systems())
def test_bmc_matches_bfs_on_random_systems(system):
    agree(system, bits=True)


def test_bmc_result_on_a_race_is_violated_with_replayed_trace():
    result = bmc_result(SymbolicSystem(counter_race(), bits=True), compile_system(counter_race()), 6)
    assert result.verdict.value == "violated"
    assert result.violated == ["no_lost_update"]
    assert result.engine == "smt-bmc"


def test_bmc_below_the_violation_depth_is_incomplete_not_holds():
    system = deep_invariant(limit=3, top=6)
    result = bmc_result(SymbolicSystem(system, bits=True), compile_system(system), 2)
    assert result.verdict.value == "incomplete"
    assert "depth 2" in result.reason


SPEC_DIR = Path(__file__).resolve().parent.parent / "specs"
SPECS = sorted(SPEC_DIR.glob("*.kvs"))


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_bmc_agrees_with_bfs_on_every_bundled_spec(spec):
    """Every bundled spec, to a depth the solver reaches in seconds: BMC and BFS find the same
    violations at the same depths (here: none that short)."""
    out = cross_check(load_system(str(spec), "reference"), 4)
    assert out.covered and out.bmc == out.bfs


def test_bmc_finds_the_mod_cancel_race_at_the_bfs_depth():
    """The mod_delayed_work / cancel_delayed_work_sync race: BFS's shortest trace has 19
    steps; BMC to 19 finds it at 19, replayed on the explicit engine."""
    out = cross_check(load_system(str(SPEC_DIR / "mod_vs_cancel.kvs")), 19)
    assert out.bfs == {"canceling_blocks_queueing": 19}
    assert out.agrees
