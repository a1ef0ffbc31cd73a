"""Counterexample traces: the data type, how to build and replay one, and its renderers.

The renderers are pure functions from a :class:`Trace` to text or JSON-ready data:
:func:`kverify.trace.text.render_text` (a step table), :func:`kverify.trace.cpu.render_cpu`
(kernel "CPU0 | CPU1" columns) and :func:`kverify.trace.data.trace_to_json`.
"""

from kverify.trace.model import Trace, TraceStep, TraceViolation

__all__ = ["Trace", "TraceStep", "TraceViolation"]
