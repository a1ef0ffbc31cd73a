"""Check results as SARIF 2.1.0, the format code-scanning services read.

Every property of a checked spec is a rule; every violation is a result located twice: at the
model line where it fires (the failing ``assert`` / ``warn_on``, or the ``invariant``
declaration) and at the kthread.c line that model line cites.  The counterexample goes along as
a code flow with one thread flow per process, its steps numbered in execution order, so a
viewer can walk the interleaving.

Model files are given relative to ``%SRCROOT%`` (the directory kverify ran in); kernel files
relative to ``KERNEL_SRC``, the ``kernel/`` directory of a Linux tree.
"""

from __future__ import annotations

import json
from typing import Any

from kverify import __version__
from kverify.ir.system import KernelRef, SourceRef, TransitionSystem
from kverify.result import Checked, Verdict, Violation
from kverify.trace.model import Trace, TraceStep

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render_sarif(checked: list[Checked]) -> str:
    """The results as a SARIF 2.1.0 log (one run, one rule per property name)."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for item in checked:
        for name in item.result.properties:
            rules.setdefault(name, _rule(name, item.system))
        if item.result.verdict is Verdict.ERROR:
            notifications.append(_notification(item, "error", item.result.reason))
        elif item.result.verdict is Verdict.INCOMPLETE or item.result.reason:
            notifications.append(
                _notification(item, "warning", f"search stopped: {item.result.reason}")
            )
    index = {name: k for k, name in enumerate(rules)}
    for item in checked:
        for violation in item.result.violations:
            results.append(_result(item, violation, index))
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kverify",
                        "version": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "originalUriBaseIds": {
                    "KERNEL_SRC": {
                        "description": {"text": "The kernel/ directory of a Linux source tree."}
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not any(
                            c.result.verdict is Verdict.ERROR for c in checked
                        ),
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _rule(name: str, system: TransitionSystem | None) -> dict[str, Any]:
    description = f"{name} holds"
    kind = ""
    if system is not None:
        try:
            prop = system.property(name)
        except KeyError:
            pass
        else:
            kind = prop.kind
            description = prop.description or f"{prop.kind} {name} holds"
    rule: dict[str, Any] = {
        "id": name,
        "shortDescription": {"text": description},
        "defaultConfiguration": {"level": "error"},
    }
    if kind:
        rule["properties"] = {"kind": kind}
    return rule


def _notification(item: Checked, level: str, text: str) -> dict[str, Any]:
    return {
        "level": level,
        "message": {"text": f"{item.spec}: {text}"},
        "locations": [_location(SourceRef(item.spec, 1))],
    }


def _result(item: Checked, violation: Violation, index: dict[str, int]) -> dict[str, Any]:
    model, kernel = _where(item.system, violation)
    locations = [_location(model)] if model is not None else [_location(SourceRef(item.spec, 1))]
    if kernel is not None:
        locations.append(_kernel_location(kernel))
    out: dict[str, Any] = {
        "ruleId": violation.prop,
        "ruleIndex": index[violation.prop],
        "level": "error",
        "message": {
            "text": f"{violation.prop} violated ({item.spec}, variant {item.result.variant}): "
            f"{violation.message}"
        },
        "locations": locations,
        "properties": {
            "spec": item.spec,
            "variant": item.result.variant,
            "kind": violation.kind,
        },
    }
    if violation.trace is not None and violation.trace.steps:
        out["codeFlows"] = [_code_flow(violation.trace)]
    return out


def _where(
    system: TransitionSystem | None, violation: Violation
) -> tuple[SourceRef | None, KernelRef | None]:
    """The model line a violation fires at and the kernel line it cites."""
    trace = violation.trace
    last = trace.steps[-1] if trace is not None and trace.steps else None
    if last is not None and last.partial:
        return last.source, last.kernel
    prop = None
    if system is not None:
        try:
            prop = system.property(violation.prop)
        except KeyError:
            prop = None
    if prop is not None and prop.source is not None:
        return prop.source, prop.kernel or (last.kernel if last is not None else None)
    if last is not None:
        return last.source, last.kernel
    return None, None


def _location(ref: SourceRef, message: str = "") -> dict[str, Any]:
    loc: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": ref.file, "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": max(ref.line, 1), "startColumn": max(ref.col, 1)},
        }
    }
    if message:
        loc["message"] = {"text": message}
    return loc


def _kernel_location(ref: KernelRef) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": ref.file, "uriBaseId": "KERNEL_SRC"},
            "region": {"startLine": max(ref.line, 1)},
        },
        "logicalLocations": [{"name": ref.function, "kind": "function"}],
        "message": {"text": f"{ref.function}() {ref.file}:{ref.line}"},
    }


def _code_flow(trace: Trace) -> dict[str, Any]:
    flows: dict[int, list[dict[str, Any]]] = {}
    for number, step in enumerate(trace.steps, start=1):
        flows.setdefault(step.pid, []).append(_flow_location(number, step))
    return {
        "message": {"text": f"counterexample of {len(trace.steps)} steps"},
        "threadFlows": [
            {"id": trace.processes[pid], "locations": locations}
            for pid, locations in sorted(flows.items())
        ],
    }


def _flow_location(number: int, step: TraceStep) -> dict[str, Any]:
    text = " ".join(step.label.split())
    if step.kernel is not None:
        text += f" ({step.kernel.function} {step.kernel.file}:{step.kernel.line})"
    return {
        "executionOrder": number,
        "location": _location(step.source, f"step {number}, {step.process}: {text}"),
        "state": {name: {"text": value} for name, value in step.changes.items()},
    }
