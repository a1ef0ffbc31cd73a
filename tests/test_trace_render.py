"""Trace renderers (text table, CPU columns, JSON) on small traces."""

from __future__ import annotations

import json

import ir_builder as ex

from kverify.api import check_system
from kverify.ir.system import KernelRef, SourceRef
from kverify.trace.cpu import render_cpu
from kverify.trace.data import trace_to_json
from kverify.trace.model import Trace, TraceStep, TraceViolation
from kverify.trace.text import render_text


def race_trace() -> Trace:
    result = check_system(ex.counter_race())
    trace = result.violations[0].trace
    assert trace is not None
    return trace


def test_text_table():
    assert render_text(race_trace()) == (
        "violation of no_lost_update (final): no_lost_update is false\n"
        "initial: x=0 (not listed: 2 variables, program counters and locals at their declared "
        "initial values; --format json has them all)\n"
        "step | process | model line  | kernel            | statement   | changes\n"
        "-----+---------+-------------+-------------------+-------------+--------\n"
        "   1 | cpu0    | test.kvl:10 | inc kthread.c:100 | tmp = x     |\n"
        "   2 | cpu1    | test.kvl:12 | inc kthread.c:100 | tmp = x     |\n"
        "   3 | cpu0    | test.kvl:11 | inc kthread.c:101 | x = tmp + 1 | x=1\n"
        "   4 | cpu1    | test.kvl:13 | inc kthread.c:101 | x = tmp + 1 |\n"
    )


def test_initial_line_lists_what_the_steps_change_and_what_init_set():
    """On a real trace: the initial line names exactly the variables some step changes and
    those whose initial value differs from their declared one, and counts the rest; JSON keeps
    every value."""
    import re
    from pathlib import Path

    from kverify.api import load_system

    system = load_system(str(Path(__file__).resolve().parent.parent / "specs" / "mod_vs_cancel.kvs"))
    trace = check_system(system).violations[0].trace
    assert trace is not None
    line = render_text(trace).splitlines()[1]
    declared = system.layout.describe(system.layout.initial())
    changed = {name for step in trace.steps for name in step.changes}
    expected = {n for n, value in trace.initial_values.items() if n in changed or value != declared[n]}
    listed = {n for n in trace.initial_values if re.search(rf"(^initial: |, ){re.escape(n)}=", line)}
    assert listed == expected and "dw.work.queued" in listed and "cpu0.state" not in listed
    assert f"(not listed: {len(trace.initial_values) - len(expected)} variables" in line
    assert trace_to_json(trace)["initial"] == trace.initial_values


def test_cpu_columns():
    assert render_cpu(race_trace()) == (
        "cpu0               | cpu1\n"
        "-------------------+-------------------\n"
        "inc()              |\n"
        "  tmp = x @100     |\n"
        "                   | inc()\n"
        "                   |   tmp = x @100\n"
        "  x = tmp + 1 @101 |\n"
        "                   |   x = tmp + 1 @101\n"
        "\n"
        "no_lost_update violated: no_lost_update is false\n"
    )


def _step(
    pid: int, label: str, function: str | None, stack: tuple[str, ...], line: int
) -> TraceStep:
    kernel = KernelRef("kthread.c", line, function) if function else None
    return TraceStep(
        tid=0,
        pid=pid,
        process=f"cpu{pid}",
        label=label,
        source=SourceRef("m.kvl", line, 1),
        kernel=kernel,
        stack=stack,
        state=(0,),
        changes={"x": "1"},
    )


def test_cpu_columns_nest_wrap_and_show_function_changes():
    long_label = (
        "__kthread_cancel_work(work, true, &flags) /* drops and retakes the lock */"
    )
    trace = Trace(
        initial=(0,),
        initial_values={"x": "0"},
        processes=("cpu0", "cpu1", "worker", "timer"),
        steps=(
            _step(
                0,
                "raw_spin_lock_irqsave(&worker->lock, flags)",
                "kthread_mod_delayed_work",
                ("kthread_mod_delayed_work",),
                1057,
            ),
            _step(
                0,
                long_label,
                "__kthread_cancel_work",
                ("kthread_mod_delayed_work", "__kthread_cancel_work"),
                1070,
            ),
            _step(3, "fire", None, (), 5),
            _step(
                0,
                "ret = true",
                "kthread_mod_delayed_work",
                ("kthread_mod_delayed_work",),
                1071,
            ),
        ),
        violation=TraceViolation("no_double_queue", "warn", "work queued twice"),
    )
    text = render_cpu(trace)
    lines = text.splitlines()
    assert [c.strip() for c in lines[0].split(" | ")] == [
        "cpu0",
        "cpu1",
        "worker",
        "timer",
    ]
    body = [line.split(" | ")[0].rstrip() for line in lines[2:8]]
    assert body[0] == "kthread_mod_delayed_work()"
    assert body[1] == "  raw_spin_lock_irqsave(&worker->lock,"
    assert body[2] == "    flags) @1057"
    assert body[3] == "  __kthread_cancel_work()"
    assert body[4].startswith("    __kthread_cancel_work(work, true,")
    assert all(len(cell) <= 40 for line in lines[2:-1] for cell in line.split(" | "))
    assert lines[9].split(" | ")[3] == "fire"
    assert lines[-1] == "no_double_queue violated: work queued twice"
    assert (
        text.count("kthread_mod_delayed_work()") == 2
    )  # entered again after the callee


def _cpu0_column(*steps: TraceStep) -> list[str]:
    """The rows of cpu0's column for a trace of ``steps`` (all of cpu0), below the header."""
    trace = Trace(initial=(0,), initial_values={"x": "0"}, processes=("cpu0",), steps=steps)
    return [line.rstrip() for line in render_cpu(trace).splitlines()[2:]]


def test_cpu_columns_name_the_callers_of_a_first_step_deep_in_a_call():
    """A process whose first step is two calls deep starts with both callers, outermost first;
    a later step in the same call adds no header."""
    stack = ("kthread_cancel_delayed_work_sync", "__kthread_cancel_work_sync")
    body = _cpu0_column(
        _step(0, "worker = work->worker", "__kthread_cancel_work_sync", stack, 1082),
        _step(0, "raw_spin_lock_irqsave(&worker->lock)", "__kthread_cancel_work_sync", stack, 1089),
    )
    assert body[:4] == [
        "kthread_cancel_delayed_work_sync()",
        "  __kthread_cancel_work_sync()",
        "    worker = work->worker @1082",
        "    raw_spin_lock_irqsave(&worker->lock)",
    ]


def test_cpu_columns_show_a_helper_under_its_own_name_not_its_callers_twice():
    """A model helper standing for a kernel call (its statements carry the caller's kthread.c
    line) is a frame of its own: the caller is not shown nested in itself."""
    body = _cpu0_column(
        _step(0, "x = 1", "create_kthread", ("create_kthread",), 277),
        _step(0, "if (failslab) [no]", "create_kthread", ("create_kthread", "kernel_thread"), 278),
        _step(0, "y = 2", "create_kthread", ("create_kthread",), 279),
    )
    assert body[:6] == [
        "create_kthread()",
        "  x = 1 @277",
        "  kernel_thread()",
        "    if (failslab) [no] @278",
        "create_kthread()",
        "  y = 2 @279",
    ]


def test_cpu_columns_name_the_function_again_after_a_statement_outside_it():
    body = _cpu0_column(
        _step(0, "a = 1", "kthread_queue_work", ("kthread_queue_work",), 10),
        _step(0, "flag = true", None, (), 20),
        _step(0, "b = 2", "kthread_queue_work", ("kthread_queue_work",), 11),
    )
    assert body[:5] == [
        "kthread_queue_work()", "  a = 1 @10", "flag = true", "kthread_queue_work()", "  b = 2 @11",
    ]


def test_json_trace():
    data = trace_to_json(race_trace())
    json.dumps(data)  # plain data only
    assert data["initial"] == {"x": "0", "cpu0.tmp": "0", "cpu1.tmp": "0"}
    assert data["loop"] is None
    assert len(data["steps"]) == 4
    step = data["steps"][2]
    assert step["process"] == "cpu0"
    assert step["action"] == "x = tmp + 1"
    assert step["source"] == "test.kvl:11:5"
    assert step["kernel"] == {"function": "inc", "file": "kthread.c", "line": 101}
    assert step["stack"] == ["inc"]
    assert step["changes"] == {"x": "1"}
    assert data["violation"]["property"] == "no_lost_update"


def test_partial_step_is_marked():
    result = check_system(ex.failing_check())
    trace = result.violations[0].trace
    assert trace is not None
    assert "(stopped here)" in render_text(trace).splitlines()[-1]
    assert "warn_on(flag) @777 <- fails" in render_cpu(trace)
    assert trace_to_json(trace)["steps"][-1]["partial"] is True
