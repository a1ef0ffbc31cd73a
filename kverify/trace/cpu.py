"""A trace in the "CPU0 | CPU1" columns kernel commit messages use to show a race.

One column per process, one row per step.  When the kernel function a process runs changes, a
row with the function name comes first, indented by its call depth (with rows for the callers
not shown yet, outermost first); the statements follow, indented one level deeper, each with
the kthread.c line it stands for::

    cpu0                          | cpu1
    ------------------------------+-----------------------------------
    kthread_mod_delayed_work()    |
      raw_spin_lock_irqsave @1057 |
                                  | kthread_cancel_delayed_work_sync()
                                  |   ...
"""

from __future__ import annotations

import textwrap

from kverify.trace.model import Trace, TraceStep
from kverify.trace.text import shorten

WIDTH = 40
INDENT = "  "

Row = tuple[int, str]  # (column, cell text); the other columns of the row are blank


def render_cpu(trace: Trace, width: int = WIDTH) -> str:
    """The trace in per-process columns, each at most ``width`` characters wide."""
    columns = list(trace.processes)
    rows = _rows(trace, width)
    widths = [len(name) for name in columns]
    for col, text in rows:
        widths[col] = max(widths[col], len(text))
    lines = [_line(list(columns), widths), "-+-".join("-" * w for w in widths)]
    for col, text in rows:
        cells = [""] * len(columns)
        cells[col] = text
        lines.append(_line(cells, widths))
    lines.extend(_footer(trace, width * 2))
    return "\n".join(lines) + "\n"


def _rows(trace: Trace, width: int) -> list[Row]:
    """The rows of the columns.  A step whose call chain differs from its process's previous
    one gets a header row for each call not shown yet, outermost first (a process whose first
    step is two calls deep starts with both callers), and one for the function it returns to."""
    rows: list[Row] = []
    shown: dict[int, list[str]] = {}  # per process: the call chain of its last step
    for step in trace.steps:
        frames = _frames(step)
        if frames:
            before = shown.get(step.pid, [])
            same = 0
            while same < min(len(frames), len(before)) and frames[same] == before[same]:
                same += 1
            if same == len(frames) and len(before) > len(frames):
                same -= 1  # back in a caller: name it again
            for level in range(same, len(frames)):
                indent = INDENT * level
                rows.append((step.pid, indent + shorten(frames[level] + "()", width - len(indent))))
        shown[step.pid] = frames  # a step outside every function resets the chain
        indent = INDENT * len(frames)
        rows.extend((step.pid, text) for text in _wrap(_statement(step), indent, width))
    return rows


def _frames(step: TraceStep) -> list[str]:
    """The model functions a step runs in, outermost first.  Kernel functions keep their
    kthread.c names; a helper that models a kernel call (``kernel_thread``, ``do_exit``)
    shows under its own name, and its statements carry the kthread.c line of the call."""
    if step.stack:
        return list(step.stack)
    return [step.kernel.function] if step.kernel is not None else []


def _statement(step: TraceStep) -> str:
    text = " ".join(step.label.split())
    if step.kernel is not None:
        text += f" @{step.kernel.line}"
    if step.partial:
        text += " <- fails"
    return text


def _wrap(text: str, indent: str, width: int) -> list[str]:
    lines = textwrap.wrap(
        text,
        width=max(width, len(indent) + 10),
        initial_indent=indent,
        subsequent_indent=indent + INDENT,
        break_on_hyphens=False,
    )
    return lines or [indent]


def _line(cells: list[str], widths: list[int]) -> str:
    return " | ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip()


def _footer(trace: Trace, width: int) -> list[str]:
    v = trace.violation
    if v is None:
        return []
    lines = [""]
    lines.extend(textwrap.wrap(f"{v.prop} violated: {v.message}", width=width))
    if trace.loop is not None:
        lines.append(trace.loop_note())
    return lines
