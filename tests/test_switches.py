"""--min-switches: among the shortest counterexamples, one with the fewest context switches."""

from __future__ import annotations

import ir_builder as ex
from kverify_run import SPEC, at_root

from kverify import api
from kverify.explore.compile import compile_system
from kverify.explore.switches import context_switches
from kverify.ir import expr as ir
from kverify.ir.system import TransitionSystem
from kverify.trace.replay import replay


def two_flags() -> TransitionSystem:
    """p0 and p1 each take two steps, the second sets a flag; both flags set is the bug."""
    b = ex.Builder("flags")
    flags = []
    for name in ("p0", "p1"):
        pid = b.process(name, 2)
        flag = b.var(f"{name}.done", 0, 1)
        flags.append(flag)
        b.step(pid, 0, 1, [], "prepare")
        b.step(pid, 1, 2, [ex.assign(flag, ex.const(1), 0, 1)], "finish")
    both = ir.Binary("&&", ex.eq(flags[0], 1), ex.eq(flags[1], 1))
    b.invariant("not_both", ir.Unary("!", both))
    return b.build(check_deadlock=False)


def test_fewest_switches_on_a_small_system() -> None:
    system = two_flags()
    result = api.check_system(system, strategy="dfs", min_switches=True)
    trace = result.trace
    assert trace is not None and len(trace.steps) == 4  # shortest, even after a DFS
    assert context_switches(trace) == 1
    replay(system, compile_system(system), trace)


def test_mod_delayed_work_race_in_two_switches() -> None:
    plain = api.check_spec(SPEC).result.trace
    simple = api.check_spec(SPEC, min_switches=True).result
    trace = simple.trace
    assert plain is not None and trace is not None
    assert len(trace.steps) == len(plain.steps)
    assert context_switches(trace) == 2 <= context_switches(plain)
    assert [s.process for s in trace.steps][-1] == trace.steps[0].process
    checked = api.check_spec(SPEC)
    assert checked.system is not None
    replay(checked.system, compile_system(checked.system), trace)


def test_min_switches_flag(capsys) -> None:
    from kverify.cli import main

    assert main(["check", SPEC, "--min-switches", "--format", "cpu"]) == 1
    assert "canceling_blocks_queueing violated" in capsys.readouterr().out

__all__ = ["at_root"]  # the autouse fixture
