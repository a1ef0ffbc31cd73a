"""Render check results for the command line: a summary per spec plus the violation traces.

Pure functions from :class:`~kverify.result.Result` to text; the CLI decides where it goes.
"""

from __future__ import annotations

import json
from typing import Any

from kverify.result import Result, Verdict
from kverify.trace.cpu import render_cpu
from kverify.trace.text import render_text

FORMATS = ("text", "cpu", "json")
SUMMARY_HEADER = ("spec", "variant", "verdict", "states", "transitions", "seconds")

_HINTS = {
    "max-states": "raise --max-states",
    "max-depth": "raise --max-depth",
    "time limit": "raise --time-limit",
}


def render_results(results: list[Result], fmt: str) -> str:
    """All results in one format: ``text``, ``cpu`` (CPU-column traces) or ``json``."""
    if fmt == "json":
        data = [r.to_json() for r in results]
        return json.dumps(data[0] if len(data) == 1 else data, indent=2) + "\n"
    text = "\n".join(
        render_result(r, fmt) for r in results if r.verdict is not Verdict.ERROR
    )
    return text + ("\n" + render_tally(results) if len(results) > 1 else "")


def render_tally(results: list[Result]) -> str:
    """One closing line for a run over several specs: how many hold, which are violated,
    incomplete or could not be checked."""
    groups: dict[Verdict, list[str]] = {}
    for r in results:
        name = r.spec if r.variant == "reference" else f"{r.spec} ({r.variant})"
        groups.setdefault(r.verdict, []).append(name)
    parts = []
    for verdict, word in (
        (Verdict.VIOLATED, "violated"),
        (Verdict.HOLDS, "hold"),
        (Verdict.INCOMPLETE, "incomplete"),
        (Verdict.ERROR, "could not be checked"),
    ):
        names = groups.get(verdict, [])
        if names:
            listed = f" ({', '.join(names)})" if verdict is not Verdict.HOLDS else ""
            if verdict is Verdict.HOLDS and len(names) == 1:
                word = "holds"
            parts.append(f"{len(names)} {word}{listed}")
    return f"checked {len(results)} specs: " + ", ".join(parts) + "\n"


def render_result(result: Result, fmt: str = "text") -> str:
    """One result: the summary line, each property's verdict, then the violation traces."""
    lines = [render_summary(result)]
    lines.extend(
        f"  {verdict.value:<10}  {name}" for name, verdict in result.properties.items()
    )
    if result.reason:
        lines.append(f"  search stopped: {result.reason}{_hint(result.reason)}")
    lines.extend(f"  note: {note}" for note in result.notes)
    por = result.stats.extra.get("por")
    if isinstance(por, dict):
        lines.append(f"  reduction: {por_summary(por)}")
        if "full_search" in por:
            lines.append(f"  full search: {full_search_summary(por)}")
    text = "\n".join(lines) + "\n"
    render = render_cpu if fmt == "cpu" else render_text
    for violation in result.violations:
        if violation.trace is not None:
            text += "\n" + render(violation.trace)
        else:
            text += f"\n{violation.prop} violated: {violation.message}\n"
    return text


def por_summary(por: dict[str, int]) -> str:
    """One line of partial-order reduction statistics."""
    expanded = por["reduced_states"] + por["full_states"]
    return (
        f"{por['reduced_states']} of {expanded} states expanded with a "
        f"stubborn set, {por['pruned_steps']} enabled steps not followed; full expansions forced by "
        f"the cycle proviso {por['proviso']}, by visibility {por['visible']}"
    )


def full_search_summary(por: dict[str, Any]) -> str:
    """One line comparing the reduced search with the full one (``--compare-por``)."""
    full = por["full_search"]
    if full is None:
        return f"not run (the reduced search stopped: {por.get('reduced_search_stopped')})"
    figures = f"{full['states']} states, {full['transitions']} transitions, {full['seconds']:.2f} s"
    if por["agree"] is None:
        which = (
            f"the reduced search stopped: {por['reduced_search_stopped']}"
            if por.get("reduced_search_stopped")
            else f"the full search stopped: {full['stopped']}"
        )
        return f"{figures}; no ratios or comparison ({which})"
    agree = "same verdicts" if por["agree"] else "VERDICTS DIFFER (a bug in the reduction: see the note)"
    return (
        f"{figures}; the reduction stores {por['state_ratio']:.2f}x fewer states and follows "
        f"{por['transition_ratio']:.2f}x fewer transitions; {agree}"
    )


def render_summary(result: Result) -> str:
    """The header line ``spec  variant  verdict  states  transitions  seconds`` and its values."""
    values = (
        result.spec,
        result.variant,
        result.verdict.value,
        str(result.stats.states),
        str(result.stats.transitions),
        f"{result.stats.seconds:.2f}",
    )
    widths = [max(len(h), len(v)) for h, v in zip(SUMMARY_HEADER, values)]
    header = "  ".join(h.ljust(w) for h, w in zip(SUMMARY_HEADER, widths)).rstrip()
    row = "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()
    return header + "\n" + row


def _hint(reason: str) -> str:
    for prefix, hint in _HINTS.items():
        if reason.startswith(prefix):
            return f" ({hint})"
    return ""


def exit_code(results: list[Result]) -> int:
    """2 if any error, else 1 if any violation, else 3 if any incomplete, else 0."""
    verdicts = {r.verdict for r in results}
    for verdict, code in (
        (Verdict.ERROR, 2),
        (Verdict.VIOLATED, 1),
        (Verdict.INCOMPLETE, 3),
    ):
        if verdict in verdicts:
            return code
    return 0
