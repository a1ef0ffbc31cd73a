"""A trace as a plain-text step table.

::

    violation of no_double_queue: work queued twice
    initial: x=0, y=0
    step | process | model line | kernel | statement | changes
    -----+---------+------------+--------+-----------+--------
       1 | cpu0    | m.kvl:12   | ...    | x = x + 1 | x=1
"""

from __future__ import annotations

from kverify.trace.model import Trace, TraceStep

HEADER = ("step", "process", "model line", "kernel", "statement", "changes")
MAX_LABEL = 60


def render_text(trace: Trace) -> str:
    """The trace as a table: header naming the violation, the initial state, one row per step."""
    lines = [_headline(trace), _initial(trace)]
    rows = [HEADER] + [_row(k, step) for k, step in enumerate(trace.steps, start=1)]
    lines.extend(_table(rows))
    if trace.loop is not None:
        lines.append(trace.loop_note())
    return "\n".join(lines) + "\n"


def _initial(trace: Trace) -> str:
    """The initial values a reader needs: those the steps change and those that differ from
    their declaration (what the spec's init set); the rest are counted, not listed."""
    values = trace.initial_values
    if trace.shown is None:
        return "initial: " + _pairs(values)
    shown = {name: value for name, value in values.items() if name in trace.shown}
    line = "initial: " + (_pairs(shown) or "every variable at its declared initial value")
    left = len(values) - len(shown)
    if left:
        line += (
            f" (not listed: {left} {'variable' if left == 1 else 'variables'}, program counters "
            "and locals at their declared initial values; --format json has them all)"
        )
    return line


def _headline(trace: Trace) -> str:
    v = trace.violation
    if v is None:
        return f"trace of {len(trace.steps)} steps"
    return f"violation of {v.prop} ({v.kind}): {v.message}"


def _row(number: int, step: TraceStep) -> tuple[str, ...]:
    kernel = str(step.kernel) if step.kernel is not None else ""
    changes = _pairs(step.changes)
    if step.partial:
        changes = (changes + " " if changes else "") + "(stopped here)"
    return (
        str(number),
        step.process,
        f"{step.source.file}:{step.source.line}",
        kernel,
        shorten(step.label, MAX_LABEL),
        changes,
    )


def _pairs(values: dict[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in values.items())


def shorten(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with ``...`` when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 3, 0)] + "..."


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    widths[-1] = 0  # the last column is never padded

    def fmt(row: tuple[str, ...]) -> str:
        cells = [row[0].rjust(widths[0])] + [
            cell.ljust(w) for cell, w in zip(row[1:], widths[1:])
        ]
        return " | ".join(cells).rstrip()

    rule = "-+-".join("-" * max(w, len(h)) for w, h in zip(widths, rows[0]))
    return [fmt(rows[0]), rule] + [fmt(row) for row in rows[1:]]
