"""A trace as JSON-ready data (dicts, lists, strings and ints only)."""

from __future__ import annotations

from typing import Any

from kverify.trace.model import Trace, TraceStep


def trace_to_json(trace: Trace) -> dict[str, Any]:
    """The trace as a dict: ``initial`` (name -> value), ``steps``, ``loop``, ``violation``."""
    violation = trace.violation
    return {
        "initial": dict(trace.initial_values),
        "steps": [_step_json(k, step) for k, step in enumerate(trace.steps, start=1)],
        "loop": trace.loop,
        "violation": (
            {
                "property": violation.prop,
                "kind": violation.kind,
                "message": violation.message,
            }
            if violation is not None
            else None
        ),
    }


def _step_json(number: int, step: TraceStep) -> dict[str, Any]:
    kernel = step.kernel
    return {
        "step": number,
        "process": step.process,
        "pid": step.pid,
        "tid": step.tid,
        "action": step.label,
        "source": str(step.source),
        "kernel": (
            {"function": kernel.function, "file": kernel.file, "line": kernel.line}
            if kernel is not None
            else None
        ),
        "stack": list(step.stack),
        "changes": dict(step.changes),
        "partial": step.partial,
    }
