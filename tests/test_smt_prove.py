"""Induction and its counterexamples, Spacer, and the ``prove`` command."""

from __future__ import annotations

import subprocess
import sys

from ir_builder import Builder, assign, binary, const, deep_invariant, eq, locked_counter, read

from kverify.cli import main
from kverify.explore.compile import compile_system
from kverify.explore.search import Limits
from kverify.ir import expr as ir
from kverify.result import Verdict
from kverify.smt import ProveOptions, prove_system
from kverify.smt.induction import CTI, Reachability, induction_result
from kverify.smt.relation import SymbolicSystem
from kverify.smt.spacer import show_invariant, spacer


def induction(system):
    compiled = compile_system(system)
    reach = Reachability(compiled, Limits(max_states=10_000))
    return induction_result(SymbolicSystem(system, bits=True), compiled, reach)


def looping_counter():
    """A daemon counts x up to 3; every state with x <= 2 is reachable."""
    b = Builder("looping")
    x = b.var("x", 0, 3)
    pid = b.process("cpu0", 0, daemon=True)
    b.step(
        pid, 0, 0, [ir.Guard(binary("<", read(x), const(3))), assign(x, binary("+", read(x), const(1)), 0, 3)]
    )
    b.invariant("x_small", binary("<", read(x), const(3)))
    return b.build()


def test_reachable_cti_is_a_real_violation_with_a_path_from_an_initial_state():
    # x < 3 is not inductive (x = 2 steps to 3) and x = 2 is reachable: a real violation.
    system = looping_counter()
    result = induction(system)
    assert result.properties["x_small"] is Verdict.VIOLATED
    trace = next(v.trace for v in result.violations if v.prop == "x_small")
    assert trace.initial in system.initial_states
    assert len(trace) == 3


def guarded_counter():
    """x counts 0, 1 and stops; ``x != 2`` holds but is not inductive (x = 2 is a fixpoint of
    nothing, yet x = 1 at pc 1 can step to 2 only from an unreachable state)."""
    b = Builder("guarded")
    x = b.var("x", 0, 3)
    pid = b.process("cpu0", 2)
    b.step(pid, 0, 1, [assign(x, binary("+", read(x), const(1)), 0, 3)], "x++")
    b.step(pid, 1, 2, [ir.Guard(eq(x, 1)), assign(x, const(0), 0, 3)], "x = 0")
    b.invariant("x_not_2", binary("!=", read(x), const(2)))
    return b.build()


def test_unreachable_cti_asks_for_a_stronger_invariant():
    result = induction(guarded_counter())
    assert result.properties["x_not_2"] is Verdict.INCOMPLETE
    cti = next(v for v in result.violations if v.prop == "x_not_2")
    assert cti.kind == CTI
    assert "strengthen" in result.reason
    assert cti.trace is not None and cti.trace.initial not in guarded_counter().initial_states


def toggle():
    b = Builder("toggle")
    x = b.var("x", 0, 1)
    pid = b.process("cpu0", 0, daemon=True)
    b.step(pid, 0, 0, [assign(x, binary("-", const(1), read(x)), 0, 1)], "x = 1 - x")
    b.invariant("x_bit", binary("<=", read(x), const(1)))
    return b.build()


def test_inductive_invariant_is_proved():
    assert induction(toggle()).properties["x_bit"] is Verdict.HOLDS


def test_spacer_proves_the_locked_counter_and_prints_its_invariant():
    system = locked_counter()
    out = spacer(SymbolicSystem(system, bits=False), timeout=60)
    assert out.status == "proved"
    assert out.invariant is not None
    lines = show_invariant(system, out.invariant)
    assert lines and any("cpu0.pc" in line for line in lines)


def test_pdr_on_a_violated_spec_finds_the_bfs_trace():
    result = prove_system(deep_invariant(limit=3, top=6), ProveOptions(mode="pdr", depth=10, timeout=60))
    assert result.verdict is Verdict.VIOLATED
    assert result.trace is not None and len(result.trace) == 3


def test_k_induction_proves_or_reports_a_cti():
    assert prove_system(toggle(), ProveOptions(mode="k-induction", k=2)).verdict is Verdict.HOLDS
    not_yet = prove_system(guarded_counter(), ProveOptions(mode="k-induction", k=1))
    assert not_yet.verdict is Verdict.INCOMPLETE


def test_importing_the_cli_does_not_import_z3():
    code = "import sys, kverify.cli; print('z3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_prove_command_bmc_exit_codes(tmp_path, capsys):
    assert main(["prove", "specs/destroy_worker.kvs", "--bmc", "2"]) == 3
    assert "[smt-bmc]" in capsys.readouterr().out
