"""The explicit search on hand-built systems, checked against the naive enumerator."""

from __future__ import annotations

import ir_builder as ex
import pytest
from naive_explorer import explore

from kverify.errors import KverifyError
from kverify.explore.compile import compile_system
from kverify.explore.frontier import BfsFrontier, DfsFrontier
from kverify.explore.search import Limits, search
from kverify.explore.store import StateStore
from kverify.ir.system import TransitionSystem
from kverify.result import Result, Stats, Verdict
from kverify.trace.replay import replay

EXAMPLES = [
    ex.counter_race,
    ex.locked_counter,
    ex.lock_order_deadlock,
    ex.deep_invariant,
    ex.overflow,
    ex.failing_check,
]


def run(system: TransitionSystem, frontier: str = "bfs", **limits: object) -> Result:
    compiled = compile_system(system)
    f = BfsFrontier() if frontier == "bfs" else DfsFrontier()
    return search(compiled, Limits(**limits), frontier=f)  # type: ignore[arg-type]


def assert_replays(system: TransitionSystem, result: Result) -> None:
    compiled = compile_system(system)
    for violation in result.violations:
        assert violation.trace is not None
        replay(system, compiled, violation.trace)


@pytest.mark.parametrize("make", EXAMPLES, ids=lambda f: f.__name__)
def test_matches_naive_enumerator(make):
    system = make()
    compiled = compile_system(system)
    store = StateStore()
    result = search(compiled, store=store)
    oracle = explore(system)
    assert store.unpack_all(compiled.unpack) == set(oracle.depth)
    assert result.stats.states == len(oracle.depth)
    assert set(result.violated) == set(oracle.shortest)
    for v in result.violations:
        assert v.trace is not None
        assert len(v.trace.steps) == oracle.shortest[v.prop]
    assert result.stats.max_depth == max(oracle.depth.values())
    assert_replays(system, result)


@pytest.mark.parametrize("make", EXAMPLES, ids=lambda f: f.__name__)
def test_dfs_agrees_with_bfs(make):
    system = make()
    bfs, dfs = run(system, "bfs"), run(system, "dfs")
    assert dfs.engine == "explicit-dfs"
    assert bfs.engine == "explicit-bfs"
    assert dfs.verdict == bfs.verdict
    assert dfs.properties == bfs.properties
    assert dfs.stats.states == bfs.stats.states
    assert_replays(system, dfs)


def test_lost_update_is_found_with_the_shortest_trace():
    result = run(ex.counter_race())
    assert result.verdict is Verdict.VIOLATED
    assert result.violated == ["no_lost_update"]
    assert result.properties["deadlock"] is Verdict.HOLDS
    trace = result.violations[0].trace
    assert trace is not None and len(trace.steps) == 4
    assert [step.changes for step in trace.steps[2:]] == [{"x": "1"}, {}]


def test_lock_makes_the_counter_correct():
    result = run(ex.locked_counter())
    assert result.verdict is Verdict.HOLDS
    assert result.violations == ()
    assert set(result.properties.values()) == {Verdict.HOLDS}
    assert result.reason == ""


def test_deadlock_names_the_stuck_processes():
    result = run(ex.lock_order_deadlock())
    assert result.violated == ["deadlock"]
    v = result.violations[0]
    assert v.kind == "deadlock"
    assert "cpu0 at `spin_lock(b)`" in v.message
    assert "cpu1 at `spin_lock(a)`" in v.message
    assert v.trace is not None and len(v.trace.steps) == 2


def test_no_deadlock_check_when_disabled():
    system = ex.lock_order_deadlock()
    from dataclasses import replace

    result = run(replace(system, check_deadlock=False))
    assert result.verdict is Verdict.HOLDS


def test_invariant_violated_at_depth_three():
    result = run(ex.deep_invariant())
    v = result.violations[0]
    assert (v.prop, v.kind, v.message) == (
        "x_small",
        "invariant",
        "x stays below the limit",
    )
    assert v.trace is not None and len(v.trace.steps) == 3
    # the violating state is not expanded
    assert result.stats.states == 4


def test_model_error_trace_ends_in_the_partial_step():
    system = ex.overflow()
    result = run(system)
    assert result.violated == ["model-error"]
    v = result.violations[0]
    assert "x = 2 is out of range 0..1" in v.message
    assert v.trace is not None
    assert len(v.trace.steps) == 2 and v.trace.steps[-1].partial
    assert v.trace.steps[0].state != v.trace.initial
    assert_replays(system, result)


def test_failed_check_is_a_violation_of_its_property():
    result = run(ex.failing_check())
    assert result.violated == ["no_flag"]
    v = result.violations[0]
    assert v.kind == "assert" and "WARN_ON(flag)" in v.message
    assert v.trace is not None and [s.process for s in v.trace.steps] == [
        "cpu0",
        "cpu1",
    ]


def test_max_states_gives_incomplete():
    result = run(ex.counters(3, 5), max_states=10)
    assert result.verdict is Verdict.INCOMPLETE
    assert result.reason == "max-states limit 10 reached"
    assert result.stats.states == 10
    assert set(result.properties.values()) == {Verdict.INCOMPLETE}


def test_max_states_equal_to_the_state_count_completes():
    assert run(ex.counters(2, 3), max_states=16).verdict is Verdict.HOLDS
    assert run(ex.counters(2, 3), max_states=15).verdict is Verdict.INCOMPLETE


def test_max_depth_gives_incomplete_and_bounds_the_depth():
    result = run(ex.counters(2, 5), max_depth=3)
    assert result.verdict is Verdict.INCOMPLETE
    assert result.reason == "max-depth limit 3 reached"
    assert result.stats.max_depth == 3
    assert result.stats.states == 1 + 2 + 3 + 4


def test_max_depth_beyond_the_diameter_completes():
    assert run(ex.counters(2, 3), max_depth=6).verdict is Verdict.HOLDS


def test_violation_beats_incomplete():
    result = run(ex.deep_invariant(limit=2, top=6), max_depth=4)
    assert result.verdict is Verdict.VIOLATED
    assert result.properties["deadlock"] is Verdict.HOLDS  # depth 4 was never reached


def test_time_limit_gives_incomplete():
    result = run(ex.counters(3, 20), time_limit=0)
    assert result.verdict is Verdict.INCOMPLETE
    assert result.reason.startswith("time limit")
    assert 0 < result.stats.states < 21**3


def test_interrupt_returns_the_result_so_far():
    class Interrupt:
        calls = 0

        def progress(self, stats: Stats) -> None:
            Interrupt.calls += 1
            raise KeyboardInterrupt

    compiled = compile_system(ex.counters(3, 40))
    result = search(compiled, observer=Interrupt())
    assert Interrupt.calls == 1
    assert result.verdict is Verdict.INCOMPLETE
    assert result.reason == "interrupted"
    assert result.stats.states > 0


def test_observer_sees_progress():
    seen: list[Stats] = []

    class Collect:
        def progress(self, stats: Stats) -> None:
            seen.append(stats)

    compiled = compile_system(ex.counters(3, 40))
    result = search(compiled, observer=Collect())
    assert result.verdict is Verdict.HOLDS
    assert seen and all(s.states <= result.stats.states for s in seen)


def test_negative_limits_are_user_errors():
    with pytest.raises(KverifyError, match="--max-states"):
        Limits(max_states=-1)


def test_statistics():
    result = run(ex.counters(2, 3))
    stats = result.stats
    assert (stats.states, stats.transitions, stats.max_depth) == (16, 24, 6)
    assert stats.bytes_per_state > 0
    assert stats.seconds >= 0


def test_several_initial_states():
    from dataclasses import replace

    system = ex.deep_invariant(limit=10, top=3)
    two = replace(system, initial_states=(system.initial_states[0], (2, 0)))
    oracle = explore(two)
    result = run(two)
    assert result.stats.states == len(oracle.depth) == 6
    assert result.violated == ["model-error"]  # 2 + 2 is out of range 0..3
    assert_replays(two, result)
