"""--coverage and --strict: statements never executed and properties never exercised."""

from __future__ import annotations

import ir_builder as ex
from kverify_run import SPEC, at_root, run

from kverify import api
from kverify.explore.coverage import premise
from kverify.ir import expr as ir
from kverify.ir.system import TransitionSystem

__all__ = ["at_root"]  # the autouse fixture


def half_used() -> TransitionSystem:
    """x counts to 2; a step guarded by x == 5 never runs, nor does the check it carries."""
    b = ex.Builder("half")
    x = b.var("x", 0, 5)
    y = b.var("y", 0, 1)
    pid = b.process("cpu0", 3)
    b.step(pid, 0, 1, [ex.assign(x, ex.const(1), 0, 5)], "x = 1")
    b.step(pid, 1, 2, [ex.assign(x, ex.const(2), 0, 5)], "x = 2")
    b.step(pid, 1, 2, [ir.Guard(ex.eq(x, 5)), ir.Check("never", ex.eq(y, 0), "y")], "if (x == 5)")
    b.check_prop("never")
    # !(x == 5) || y == 0: the premise x == 5 never holds
    b.invariant("five_means_y0", ir.Binary("||", ir.Unary("!", ex.eq(x, 5)), ex.eq(y, 0)))
    # !(x == 2) || y == 0: the premise holds once x is 2
    b.invariant("two_means_y0", ir.Binary("||", ir.Unary("!", ex.eq(x, 2)), ex.eq(y, 0)))
    b.final("ends_at_two", ir.Binary("||", ir.Unary("!", ex.eq(y, 1)), ex.eq(x, 2)))
    return b.build(check_deadlock=False)


def test_premise_of_implications() -> None:
    a, b_, c = ex.eq(0, 1), ex.eq(1, 1), ex.eq(2, 1)
    assert premise(ir.Binary("||", ir.Unary("!", a), b_)) == a
    two = premise(ir.Binary("||", ir.Binary("||", ir.Unary("!", a), ir.Unary("!", b_)), c))
    assert two == ir.Binary("&&", a, b_)
    assert premise(ir.Binary("||", a, b_)) is None
    assert premise(a) is None


def test_unexecuted_statements_and_vacuous_properties() -> None:
    result = api.check_system(half_used(), coverage=True)
    cov = result.coverage
    assert cov is not None and cov.complete
    assert cov.statements == 3 and cov.executed == 2  # ir_builder gives step k line 10 + k
    assert [(s.line, s.labels) for s in cov.unexecuted] == [(12, ("if (x == 5)",))]
    assert cov.vacuous == {
        "never": "assert never reached",
        "five_means_y0": "its premise held in no reachable state",
        "ends_at_two": "its premise held in no final state",
    }
    assert not cov.clean


def test_coverage_off_by_default() -> None:
    assert api.check_system(half_used()).coverage is None


def test_cli_coverage_lists_lines_and_strict_fails() -> None:
    proc = run("check", SPEC, "--variant", "v5.13", "--coverage")
    assert proc.returncode == 0, proc.stderr
    assert "statements executed" in proc.stdout and "never executed:" in proc.stdout
    assert "models/kthread_worker.kvl:" in proc.stdout
    strict = run("check", SPEC, "--variant", "v5.13", "--strict")
    assert strict.returncode == 1
    assert "--strict" in strict.stderr and "never executed" in strict.stderr


def test_coverage_in_json() -> None:
    import json

    proc = run("check", SPEC, "--coverage", "--format", "json")
    data = json.loads(proc.stdout)
    assert data["coverage"]["statements"] >= data["coverage"]["executed"] > 0
