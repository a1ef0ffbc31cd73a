"""Partial-order reduction is sound: same verdicts and violated properties as the full search,
on random systems (with private slots and locks) and on the bundled specs; every trace found
with the reduction replays on the full model; the independence premise holds in every state."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ir_builder import Builder, counters
from test_random_systems import CHECKS, bool_expr, operation

from kverify.api import audit_por, check_system, load_system, variants
from kverify.explore.compile import compile_system
from kverify.explore.por import Dependencies, audit
from kverify.explore.search import search
from kverify.explore.store import StateStore
from kverify.ir import expr as ir
from kverify.ir.system import Process, TransitionSystem
from kverify.trace.replay import replay

SPECS = Path(__file__).resolve().parent.parent / "specs"


@st.composite
def lock_systems(draw: st.DrawFn) -> TransitionSystem:
    """2-4 processes with shared slots, a private slot each, and one lock (acquire: wait for 0
    and store the process's task number; release: check it is held, store 0), plus random
    checks and guards."""
    b = Builder("random-locks")
    bounds = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    shared = [b.var(f"g{k}", 0, hi) for k, hi in enumerate(bounds)]
    lock = b.var("lock", 0, 4)
    nprocs = draw(st.integers(2, 4))
    for p in range(nprocs):
        end = draw(st.integers(2, 4))
        pid = b.process(f"p{p}", end, daemon=p == 3 and draw(st.booleans()))
        private = b.var(f"p{p}.x", 0, 3, owner=pid)
        mine = [*shared, private]
        for pc in range(end):
            kind = draw(st.sampled_from(["plain", "plain", "acquire", "release", "choice"]))
            if kind == "acquire":
                ops: list[ir.Op] = [ir.Guard(ir.Binary("==", ir.Read(ir.Static(lock)), ir.Const(0))),
                                    ir.Assign(ir.Static(lock), ir.Const(pid + 1), 0, 4, "lock")]
                b.step(pid, pc, pc + 1, ops)
            elif kind == "release":  # the prelude's shape: lockdep's check, then the store
                held = ir.Binary("==", ir.Read(ir.Static(lock)), ir.Const(pid + 1))
                b.step(pid, pc, pc + 1, [ir.Check("lockdep", held, "unlock of an unheld lock"),
                                         ir.Assign(ir.Static(lock), ir.Const(0), 0, 4, "lock")])
            else:
                for _ in range(2 if kind == "choice" else 1):
                    ops = [operation(draw, b, mine) for _ in range(draw(st.integers(0, 2)))]
                    b.step(pid, pc, draw(st.just(pc + 1) | st.integers(0, end)), ops)
    if draw(st.booleans()):
        left, right = bool_expr(draw, shared, 1, False), bool_expr(draw, shared, 1, False)
        b.invariant("inv", ir.Binary("||", left, right))
    for prop in (*CHECKS, "lockdep"):
        b.check_prop(prop)
    system = b.build(check_deadlock=True)
    tasks = tuple(Process(p.pid, p.name, p.pc_slot, p.end_pc, p.daemon, p.pid + 1) for p in system.processes)
    from dataclasses import replace

    return replace(system, processes=tasks)


def _agree(system: TransitionSystem) -> None:
    compiled = compile_system(system)
    full = search(compiled)
    reduced = search(compiled, por=True)
    assert reduced.verdict == full.verdict
    assert set(reduced.violated) == set(full.violated)
    assert reduced.stats.states <= full.stats.states
    for v in reduced.violations:
        assert v.trace is not None
        replay(system, compiled, v.trace)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lock_systems())
def test_por_agrees_with_full_search_on_random_systems_with_locks(system):
    _agree(system)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_por_agrees_with_full_search_on_random_systems(data):
    from test_random_systems import systems

    _agree(data.draw(systems()))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lock_systems())
def test_independence_premise_holds_in_every_reachable_state(system):
    compiled = compile_system(system)
    store = StateStore()
    search(compiled, store=store)
    deps = Dependencies.of(system)
    for state in store.unpack_all(compiled.unpack):
        assert audit(compiled, deps, state) == []


def test_por_reduces_independent_processes():
    system = counters(3, 2)
    compiled = compile_system(system)
    full = search(compiled)
    reduced = search(compiled, por=True)
    assert reduced.verdict == full.verdict
    assert reduced.stats.states < full.stats.states


def test_por_does_not_ignore_a_step_behind_a_spinning_process():
    """Found by hypothesis against a sleep-set variant of the reduced search: p2 spins between
    two pcs, p0 and p1 take the lock for good, p3 takes it, releases it and stores an
    out-of-range value.  The model error is reachable only if p3's steps are not postponed
    forever around p2's cycle; sleep sets handed them back to that cycle, and missed it."""
    b = Builder("spin")
    g = b.var("g", 0, 1)
    lock = b.var("lock", 0, 4)
    pids = [b.process(f"p{k}", end) for k, end in enumerate((2, 2, 2, 3))]

    def acquire(pid: int) -> list[ir.Op]:
        return [ir.Guard(ir.Binary("==", ir.Read(ir.Static(lock)), ir.Const(0))),
                ir.Assign(ir.Static(lock), ir.Const(pid + 1), 0, 4, "lock")]

    for pid in pids[:2]:
        b.step(pid, 0, 1, acquire(pid))
        b.step(pid, 1, 2, [])
    b.step(pids[2], 0, 1, [])
    b.step(pids[2], 1, 0, [])
    b.step(pids[3], 0, 1, acquire(pids[3]))
    held = ir.Binary("==", ir.Read(ir.Static(lock)), ir.Const(pids[3] + 1))
    b.step(pids[3], 1, 2, [ir.Check("lockdep", held, "unlock of an unheld lock"),
                           ir.Assign(ir.Static(lock), ir.Const(0), 0, 4, "lock")])
    b.step(pids[3], 2, 3, [ir.Assign(ir.Static(g), ir.Const(2), 0, 1, "g")])
    b.check_prop("lockdep")
    system = b.build(check_deadlock=True)
    from dataclasses import replace

    system = replace(system, processes=tuple(replace(p, task_instance=p.pid + 1) for p in system.processes))
    compiled = compile_system(system)
    assert search(compiled).violated == ["model-error"]
    _agree(system)


def test_por_follows_a_write_that_makes_a_check_before_a_false_guard_fail():
    """p0's first step checks v0 == 0 and then waits on a guard that never holds: disabled
    while v0 is 0, failing once p2 stores 1.  A reduction that took only guards as the ways
    to enable a step let p0 move on first and lost the violation (found by a 3,000-example run
    of the random-system generator)."""
    b = Builder("check-before-guard")
    v0 = b.var("v0", 0, 1)
    p0, p1, p2 = b.process("p0", 2), b.process("p1", 1), b.process("p2", 1)
    never = ir.Binary("==", ir.Const(0), ir.Const(1))
    b.step(p0, 0, 1, [ir.Check("c0", ir.Binary("==", ir.Const(0), ir.Read(ir.Static(v0))), "c0 failed"),
                      ir.Guard(never)])
    b.step(p0, 0, 1, [])
    b.step(p0, 1, 2, [ir.Guard(never)])
    b.step(p1, 0, 1, [])
    b.step(p2, 0, 1, [ir.Assign(ir.Static(v0), ir.Const(1), 0, 1, "v0")])
    b.check_prop("c0")
    system = b.build(check_deadlock=False)
    assert search(compile_system(system)).violated == ["c0"]
    _agree(system)


# every bundled spec and variant but the three-caller spec (millions of states; its row is in
# docs/engine.md, measured by bench/bench.py)
BUNDLED = [
    (spec.stem, variant)
    for spec in sorted(SPECS.glob("*.kvs"))
    if spec.stem != "delayed_callers_3"
    for variant, _ in variants(str(spec))
]


@pytest.mark.parametrize(("spec", "variant"), BUNDLED)
def test_por_agrees_on_bundled_specs(spec: str, variant: str) -> None:
    system = load_system(str(SPECS / f"{spec}.kvs"), variant)
    full = check_system(system)
    reduced = check_system(system, por=True)
    assert reduced.verdict == full.verdict
    assert set(reduced.violated) == set(full.violated)
    compiled = compile_system(system)
    for v in reduced.violations:
        replay(system, compiled, v.trace)


AUDIT_CAP = 25_000  # states audited per spec: all of them but on delayed_callers_2 (124,000)


@pytest.mark.parametrize(("spec", "variant"), BUNDLED)
def test_independence_premise_holds_on_bundled_specs(spec: str, variant: str) -> None:
    """--audit-por on every bundled spec and variant: in every reachable state (the first
    AUDIT_CAP on the largest), the enabled steps the reduction treats as independent commute
    and neither disables the other."""
    states, problems = audit_por(load_system(str(SPECS / f"{spec}.kvs"), variant), AUDIT_CAP)
    assert problems == []
    assert states > 100


def test_audit_detects_a_wrong_independence_claim() -> None:
    """The audit is not vacuous: two steps that do not commute, declared independent by
    hiding a write from the read/write sets, are reported."""
    b = Builder("liar")
    x = b.var("x", 0, 3)
    p0, p1 = b.process("p0", 1), b.process("p1", 1)
    b.step(p0, 0, 1, [ir.Assign(ir.Static(x), ir.Const(1), 0, 3, "x")])
    b.step(p1, 0, 1, [ir.Assign(ir.Static(x), ir.Const(2), 0, 3, "x")])
    system = b.build()
    from dataclasses import replace

    pc0, pc1 = system.processes[0].pc_slot, system.processes[1].pc_slot
    liar = replace(system, transitions=(
        replace(system.transitions[0], writes=frozenset({pc0}), reads=frozenset({pc0})),
        replace(system.transitions[1], writes=frozenset({pc1}), reads=frozenset({pc1})),
    ))
    compiled = compile_system(liar)
    problems = audit(compiled, Dependencies.of(liar), liar.initial_states[0])
    assert problems and "different states" in problems[0]


def test_reduction_statistics_are_reported() -> None:
    """A reduced search says how much it reduced: in the JSON result and in the text report."""
    from kverify.report import render_result

    system = load_system(str(SPECS / "mod_vs_cancel.kvs"), "v5.13")
    full = check_system(system)
    reduced = check_system(system, por=True)
    por = reduced.to_json()["por"]
    assert "por" not in full.to_json()
    assert por["reduced_states"] > 0 and por["reduced_states"] + por["full_states"] <= reduced.stats.states
    # every enabled step not followed is one transition fewer than the full search takes
    assert por["pruned_steps"] > 0 and reduced.stats.transitions < full.stats.transitions
    assert f"{por['reduced_states']} of " in render_result(reduced)
