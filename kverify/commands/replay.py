"""``kverify replay TRACE``: re-execute a saved ITF trace on the model it names.

The spec and variant come from the trace's ``#meta`` (``--spec`` and ``--variant`` override
them).  The steps are fired again on a freshly loaded model and every state is compared with
the recorded one.  Exit codes: 1 the trace reproduces its violation (as ``check`` would report
it), 0 it replays but violates nothing, 2 it no longer fits the model (the first diverging step
is named) or cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path
from typing import Any

from kverify import api
from kverify.commands.outputs import emit
from kverify.errors import KverifyError
from kverify.explore.compile import CompiledSystem, StepFailure, compile_system
from kverify.ir.system import State
from kverify.trace.cpu import render_cpu
from kverify.trace.itf import ItfError, itf_to_trace, layout_difference, read_meta
from kverify.trace.replay import ReplayError, reproduce
from kverify.trace.text import render_text


def register(sub: Any) -> None:
    """Add the ``replay`` subcommand to the subparsers of ``kverify``."""
    parser = sub.add_parser("replay", help="replay a saved ITF trace on the model")
    parser.add_argument("trace", metavar="TRACE", help="an ITF trace written by check --itf")
    parser.add_argument("--spec", metavar="SPEC", help="spec file (default: from the trace)")
    parser.add_argument("--variant", metavar="NAME", help="variant (default: from the trace)")
    parser.add_argument(
        "--format", choices=("text", "cpu"), default="cpu", help="how to show the trace"
    )
    parser.set_defaults(handler=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    """The ``replay`` subcommand; returns the exit code."""
    doc = _read(args.trace)
    meta = read_meta(doc)
    spec = _spec_path(args.spec or meta.get("spec") or meta.get("source"), args.trace)
    variant = args.variant or meta.get("variant") or None
    system = api.load_system(spec, variant)
    recorded = meta.get("variant")
    other = f"recorded on variant {recorded}, replayed on {system.variant}"
    other = other if isinstance(recorded, str) and recorded != system.variant else ""
    recorded_spec = meta.get("spec")
    if isinstance(recorded_spec, str) and Path(recorded_spec).name != Path(spec).name:
        # another spec: name it first, it explains any difference that follows
        other = f"recorded on spec {recorded_spec}, replayed on {spec}" + (f"; {other}" if other else "")
    difference = layout_difference(doc, system.layout)
    if difference:
        if "recorded on spec" in other:
            hint = f"replay it on the spec and variant it was recorded on (--spec {recorded_spec})"
        elif other:
            hint = f"replay it on its own variant: --variant {recorded}"
        else:
            hint = "the model changed since the trace was recorded: check the spec again for a new trace"
        raise KverifyError(f"{args.trace}: {difference}" + (f" ({other})" if other else ""), hint=hint)
    compiled = compile_system(system)
    try:
        trace = itf_to_trace(doc, system, partial(_fire, compiled))
        outcome = reproduce(system, compiled, trace)
    except ItfError as exc:
        return _diverged(args.trace, exc.message, exc.state, other)
    except ReplayError as exc:
        return _diverged(args.trace, exc.message, exc.step, other)
    steps = len(trace.steps)
    head = f"{args.trace}: replayed {steps} steps on {spec} ({system.variant}); "
    if outcome.violation is None:
        emit(f"{head}no violation: {outcome.note}\n", None)
        return 0
    v = outcome.violation
    render = render_cpu if args.format == "cpu" else render_text
    emit(f"{head}reproduces {v.prop} ({v.kind}): {v.message}\n\n{render(trace)}", None)
    return 1


def _fire(compiled: CompiledSystem, tid: int, state: State) -> object:
    """A step's outcome in ``state``: the next state, None when disabled, or the failure."""
    try:
        return compiled.steps[tid](state)
    except StepFailure as exc:
        return exc.message


def _diverged(path: str, message: str, step: int | None, other: str = "") -> int:
    """Report a divergence; ``other`` says the trace was recorded on another variant (where
    the variants differ, a divergence is what replaying there shows)."""
    where = f"step {step}" if step is not None else "the end"
    also = f"; {other}" if other else ""
    print(f"{path}: the trace no longer fits the model (diverges at {where}{also}): {message}",
          file=sys.stderr)
    return 2


def _read(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise KverifyError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise KverifyError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None


def _spec_path(spec: object, trace_path: str) -> str:
    if not isinstance(spec, str) or not spec:
        raise KverifyError(
            "the trace does not name its spec", hint="give it with --spec path/to/spec.kvs"
        )
    if Path(spec).is_file():
        return spec
    beside = Path(trace_path).parent / spec
    if beside.is_file():
        return str(beside)
    raise KverifyError(
        f"the trace names its spec as {spec}, which is neither here nor beside the trace",
        hint="give the spec with --spec path/to/spec.kvs (the trace stores the path it was checked with)",
    )
