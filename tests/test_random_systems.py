"""Random small systems: the engine agrees with the naive enumerator, BFS with DFS, and
every trace replays."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ir_builder import Builder
from naive_explorer import explore

from kverify.explore.compile import compile_system
from kverify.explore.frontier import DfsFrontier
from kverify.explore.search import search
from kverify.explore.store import StateStore
from kverify.ir import expr as ir
from kverify.ir.system import TransitionSystem
from kverify.trace.replay import replay

CHECKS = ("c0", "c1")


def int_expr(draw: st.DrawFn, slots: list[int], depth: int, dynamic: bool) -> ir.Expr:
    kinds = ["const", "read"] + (["binary", "ite"] if depth > 0 else [])
    if dynamic and len(slots) >= 2:
        kinds.append("dynamic")
    kind = draw(st.sampled_from(kinds))
    if kind == "const":
        return ir.Const(draw(st.integers(0, 3)))
    if kind == "read":
        return ir.Read(ir.Static(draw(st.sampled_from(slots))))
    if kind == "dynamic":
        bases = tuple(draw(st.permutations(slots))[:2])
        key = ir.Read(ir.Static(draw(st.sampled_from(slots))))
        return ir.Read(ir.Dynamic(bases, key, 0, 0, "a[i]"))
    if kind == "binary":
        op = draw(st.sampled_from(["+", "-"]))
        left = int_expr(draw, slots, depth - 1, dynamic)
        return ir.Binary(op, left, int_expr(draw, slots, depth - 1, dynamic))
    cond = bool_expr(draw, slots, depth - 1, dynamic)
    then = int_expr(draw, slots, depth - 1, dynamic)
    return ir.Ite(cond, then, int_expr(draw, slots, depth - 1, dynamic))


def bool_expr(draw: st.DrawFn, slots: list[int], depth: int, dynamic: bool) -> ir.Expr:
    kind = draw(
        st.sampled_from(["compare", "logic", "not"] if depth > 0 else ["compare"])
    )
    if kind == "compare":
        op = draw(st.sampled_from(["==", "!=", "<", "<="]))
        left = int_expr(draw, slots, max(depth - 1, 0), dynamic)
        return ir.Binary(op, left, int_expr(draw, slots, max(depth - 1, 0), dynamic))
    if kind == "not":
        return ir.Unary("!", bool_expr(draw, slots, depth - 1, dynamic))
    op = draw(st.sampled_from(["&&", "||"]))
    left = bool_expr(draw, slots, depth - 1, dynamic)
    return ir.Binary(op, left, bool_expr(draw, slots, depth - 1, dynamic))


def operation(draw: st.DrawFn, b: Builder, slots: list[int]) -> ir.Op:
    kind = draw(st.sampled_from(["guard", "assign", "assign", "set", "set", "check"]))
    if kind == "guard":
        return ir.Guard(bool_expr(draw, slots, 2, True))
    if kind == "check":
        prop = draw(st.sampled_from(CHECKS))
        return ir.Check(prop, bool_expr(draw, slots, 2, True), f"{prop} failed")
    target = b.slots[draw(st.sampled_from(slots))]
    if kind == "set":
        value: ir.Expr = ir.Const(draw(st.integers(target.lo, target.hi)))
    else:
        value = int_expr(draw, slots, 2, True)
    return ir.Assign(ir.Static(target.index), value, target.lo, target.hi, target.name)


@st.composite
def systems(draw: st.DrawFn) -> TransitionSystem:
    b = Builder("random")
    slots = [
        b.var(f"v{k}", 0, hi, draw(st.integers(0, hi)))
        for k, hi in enumerate(
            draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
        )
    ]
    for p in range(draw(st.integers(2, 3))):
        end = draw(st.integers(1, 3))
        pid = b.process(f"p{p}", end, daemon=draw(st.booleans()) and p == 2)
        for pc in range(end):
            for _ in range(draw(st.integers(1, 2))):
                ops = [
                    operation(draw, b, slots) for _ in range(draw(st.integers(0, 2)))
                ]
                b.step(pid, pc, draw(st.just(pc + 1) | st.integers(0, end)), ops)
    for k in range(draw(st.integers(0, 2))):
        weak = ir.Binary(
            "||", bool_expr(draw, slots, 1, False), bool_expr(draw, slots, 1, False)
        )
        b.invariant(f"inv{k}", weak)
    if draw(st.booleans()):
        b.final("fin", bool_expr(draw, slots, 1, False))
    for prop in CHECKS:
        b.check_prop(prop)
    return b.build(check_deadlock=draw(st.booleans()))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(systems())
def test_engine_matches_naive_enumerator(system):
    compiled = compile_system(system)
    store = StateStore()
    result = search(compiled, store=store)
    oracle = explore(system)
    assert store.unpack_all(compiled.unpack) == set(oracle.depth)
    assert set(result.violated) == set(oracle.shortest)
    for v in result.violations:
        assert v.trace is not None
        assert len(v.trace.steps) == oracle.shortest[v.prop], v.prop
        replay(system, compiled, v.trace)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(systems())
def test_dfs_matches_bfs(system):
    compiled = compile_system(system)
    bfs = search(compiled)
    dfs = search(compiled, frontier=DfsFrontier())
    assert dfs.stats.states == bfs.stats.states
    assert dfs.properties == bfs.properties
    for v in dfs.violations:
        assert v.trace is not None
        replay(system, compiled, v.trace)
