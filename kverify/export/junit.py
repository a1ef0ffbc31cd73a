"""Check results as JUnit XML: one test suite per spec variant, one test case per property.

A violated property is a ``<failure>`` whose text is the counterexample in CPU columns; a
property a limit left open is ``<skipped>``; a spec that could not be checked is one test case
with an ``<error>``.  CI systems (GitLab, Jenkins, GitHub test reporters) show these as tests.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kverify.result import Result, Verdict, Violation
from kverify.trace.cpu import render_cpu


def render_junit(results: list[Result]) -> str:
    """The results as a JUnit XML document (``<testsuites>`` root)."""
    root = ET.Element("testsuites", name="kverify")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in results:
        suite = _suite(result)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{sum(r.stats.seconds for r in results):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _suite(result: Result) -> ET.Element:
    name = f"{result.spec}[{result.variant}]"
    suite = ET.Element("testsuite", name=name, time=f"{result.stats.seconds:.3f}")
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("engine", result.engine),
        ("states", str(result.stats.states)),
        ("transitions", str(result.stats.transitions)),
        ("reason", result.reason),
    ):
        ET.SubElement(props, "property", name=key, value=value)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if result.verdict is Verdict.ERROR:
        case = ET.SubElement(suite, "testcase", name="load", classname=name)
        ET.SubElement(case, "error", message=result.reason, type="error").text = result.reason
        counts.update(tests=1, errors=1)
    found = {v.prop: v for v in result.violations}
    for prop, verdict in result.properties.items():
        case = ET.SubElement(suite, "testcase", name=prop, classname=name, time="0")
        counts["tests"] += 1
        if verdict is Verdict.VIOLATED:
            counts["failures"] += 1
            _failure(case, found.get(prop), prop)
        elif verdict is Verdict.INCOMPLETE:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=f"search stopped: {result.reason}")
    for key, count in counts.items():
        suite.set(key, str(count))
    return suite


def _failure(case: ET.Element, violation: Violation | None, prop: str) -> None:
    if violation is None:
        ET.SubElement(case, "failure", message=f"{prop} violated", type="violation")
        return
    node = ET.SubElement(
        case, "failure", message=violation.message, type=violation.kind or "violation"
    )
    node.text = render_cpu(violation.trace) if violation.trace is not None else violation.message
