"""Check results as one self-contained HTML page (inline CSS, no scripts, nothing fetched).

The page has a summary table, each spec's property verdicts, and for every violation the
counterexample as swimlanes: one column per process, one row per step, each step with its
statement, model line and kthread.c function and line.  Beside each step the variables it
changed are highlighted; the full state after the step unfolds below them, changed rows marked.
The violated property is named above its trace and at the failing step; a lasso's loop is
marked from the step it returns to.
"""

from __future__ import annotations

from html import escape

from kverify import __version__
from kverify.ir.system import Layout, State
from kverify.result import Checked, Result, Verdict, Violation
from kverify.trace.model import Trace, TraceStep

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1f23; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 2em; } h3 { font-size: 1.05em; }
code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
table { border-collapse: collapse; }
.summary td, .summary th { border: 1px solid #d0d7de; padding: 2px 8px; text-align: left; }
.verdict-holds { color: #1a7f37; } .verdict-violated { color: #cf222e; font-weight: bold; }
.verdict-incomplete { color: #9a6700; } .verdict-error { color: #cf222e; }
.props { columns: 2; list-style: none; padding-left: 0; }
.property { background: #ffebe9; border: 1px solid #cf222e; border-radius: 6px; padding: 8px 12px;
  margin: 1em 0; }
.swimlanes { width: 100%; table-layout: fixed; }
.swimlanes th { position: sticky; top: 0; background: #f6f8fa; border-bottom: 2px solid #8c959f;
  padding: 4px 6px; text-align: left; }
.swimlanes td { vertical-align: top; padding: 3px 6px; border-bottom: 1px solid #eaeef2; }
.swimlanes td.lane { border-left: 1px solid #d0d7de; }
.swimlanes td.num { width: 2.5em; text-align: right; color: #57606a; }
.swimlanes th.num { width: 2.5em; }
.swimlanes th.state-head { width: 30%; }
.lane-0 { background: #f3f8ff; } .lane-1 { background: #fff8f0; } .lane-2 { background: #f4fbf4; }
.lane-3 { background: #fbf4fb; } .lane-4 { background: #f8f8f2; } .lane-5 { background: #f2f8f8; }
.step-cell code { overflow-wrap: anywhere; }
.step-cell { background: #ffffff; border: 1px solid #8c959f; border-radius: 4px; padding: 3px 5px; }
.fn { color: #57606a; font-size: 12px; }
.where { color: #57606a; font-size: 11.5px; }
.kernel { color: #8250df; }
tr.partial .step-cell { border: 2px solid #cf222e; background: #ffebe9; }
.fails { color: #cf222e; font-weight: bold; }
.changed, mark.changed { background: #fff8c5; border-radius: 3px; padding: 0 2px; }
tr.changed td { background: #fff8c5; }
tr.in-loop td.num { border-left: 4px solid #0969da; }
tr.loop-start td { border-top: 2px dashed #0969da; }
.loop-mark { color: #0969da; font-weight: bold; }
details.state { margin-top: 2px; } details.state summary { cursor: pointer; color: #0969da; }
.vars td { padding: 0 6px; border: none; font-size: 12px; }
.vars td.name { color: #57606a; }
footer { margin-top: 3em; color: #57606a; font-size: 12px; }
"""


def render_html(checked: list[Checked], title: str = "kverify report") -> str:
    """The whole page for the results of one ``kverify check`` run."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        _summary(checked),
    ]
    for item in checked:
        parts.append(_result_section(item))
    parts.append(f"<footer>kverify {escape(__version__)}</footer></body></html>")
    return "\n".join(parts) + "\n"


def _summary(checked: list[Checked]) -> str:
    rows = [
        "<table class=\"summary\"><tr><th>spec</th><th>variant</th><th>verdict</th>"
        "<th>states</th><th>transitions</th><th>seconds</th></tr>"
    ]
    for item in checked:
        r = item.result
        rows.append(
            f"<tr><td>{escape(item.spec)}</td><td>{escape(r.variant)}</td>"
            f"{_verdict_cell(r.verdict)}<td>{r.stats.states}</td>"
            f"<td>{r.stats.transitions}</td><td>{r.stats.seconds:.2f}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def _verdict_cell(verdict: Verdict) -> str:
    return f'<td class="verdict-{verdict.value}">{verdict.value}</td>'


def _result_section(item: Checked) -> str:
    r = item.result
    out = [
        f'<section class="result"><h2>{escape(item.spec)} &mdash; {escape(r.variant)} &mdash; '
        f'<span class="verdict-{r.verdict.value}">{r.verdict.value}</span></h2>'
    ]
    if r.reason:
        out.append(f"<p>search stopped: {escape(r.reason)}</p>")
    out.append('<ul class="props">')
    out.extend(
        f'<li><span class="verdict-{v.value}">{v.value}</span> {escape(name)}</li>'
        for name, v in r.properties.items()
    )
    out.append("</ul>")
    layout = item.system.layout if item.system is not None else None
    for violation in r.violations:
        out.append(_violation_section(violation, layout))
    out.append("</section>")
    return "\n".join(out)


def _violation_section(violation: Violation, layout: Layout | None) -> str:
    head = (
        f'<div class="property" data-property="{escape(violation.prop)}">'
        f"<strong>{escape(violation.prop)}</strong> ({escape(violation.kind)}) violated: "
        f"{escape(violation.message)}</div>"
    )
    if violation.trace is None:
        return f'<section class="violation">{head}</section>'
    return f'<section class="violation">{head}\n{render_trace_table(violation.trace, layout)}</section>'


def render_trace_table(trace: Trace, layout: Layout | None = None) -> str:
    """The swimlane table of one trace.  With the ``layout`` every step shows the full state;
    without it, the state is rebuilt from the initial values and each step's changes."""
    lanes = "".join(
        f'<th class="lane-head lane-{pid % 6}" data-process="{escape(name)}">{escape(name)}</th>'
        for pid, name in enumerate(trace.processes)
    )
    rows = [
        f'<table class="swimlanes"><thead><tr><th class="num">#</th>{lanes}'
        '<th class="state-head">changes and state</th></tr></thead><tbody>'
    ]
    states = _states(trace, layout)
    rows.append(_initial_row(trace, states[0]))
    # unfold the state of the last step that changed a shared variable: the state the
    # violation is seen in
    unfold = max((k for k, s in enumerate(trace.steps, start=1) if s.changes), default=0)
    for number, step in enumerate(trace.steps, start=1):
        rows.append(
            _step_row(trace, number, step, states[number - 1], states[number], number == unfold)
        )
    if trace.loop is not None:
        span = len(trace.processes) + 2
        rows.append(
            f'<tr class="loop-back"><td colspan="{span}" class="loop-mark">'
            f"&#8635; {escape(trace.loop_note().strip('()'))}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


Values = dict[str, tuple[str, bool]]  # name -> (value, shared?)


def _states(trace: Trace, layout: Layout | None) -> list[Values]:
    if layout is not None:
        return [_describe(layout, trace.initial)] + [
            _describe(layout, step.state) for step in trace.steps
        ]
    current = {name: (value, True) for name, value in trace.initial_values.items()}
    out = [dict(current)]
    for step in trace.steps:
        current.update({name: (value, True) for name, value in step.changes.items()})
        out.append(dict(current))
    return out


def _describe(layout: Layout, state: State) -> Values:
    return {
        v.name: (v.show(state, layout), v.kind not in ("pc", "local")) for v in layout.variables
    }


def _initial_row(trace: Trace, values: Values) -> str:
    span = len(trace.processes)
    cls = ' class="in-loop loop-start"' if trace.loop == 0 else ""
    return (
        f'<tr{cls} data-step="0"><td class="num">0</td><td colspan="{span}"><em>initial state</em>'
        f"{_loop_mark(trace, 0)}</td>"
        f'<td class="state">{_state_details(values, set(), "initial state")}</td></tr>'
    )


def _loop_mark(trace: Trace, number: int) -> str:
    if trace.loop is not None and trace.loop == number:
        return ' <span class="loop-mark">&#8635; loop starts here</span>'
    return ""


def _step_row(
    trace: Trace, number: int, step: TraceStep, before: Values, after: Values, unfold: bool
) -> str:
    classes = ["step"]
    if trace.loop is not None and number > trace.loop:
        classes.append("in-loop")
    if trace.loop is not None and number == trace.loop + 1:
        classes.append("loop-start")
    if step.partial:
        classes.append("partial")
    cells = []
    for pid in range(len(trace.processes)):
        if pid == step.pid:
            cells.append(
                f'<td class="lane lane-{pid % 6}" data-process="{escape(step.process)}">'
                f"{_step_cell(trace, number, step)}</td>"
            )
        else:
            cells.append(f'<td class="lane lane-{pid % 6}"></td>')
    changed = {name for name, value in after.items() if before.get(name) != value}
    changed.update(step.changes)
    return (
        f'<tr class="{" ".join(classes)}" data-step="{number}"><td class="num">{number}</td>'
        + "".join(cells)
        + f'<td class="state">{_changes(step)}'
        + _state_details(after, changed, "state after", opened=unfold)
        + "</td>"
        + "</tr>"
    )


def _step_cell(trace: Trace, number: int, step: TraceStep) -> str:
    fn = step.kernel.function if step.kernel is not None else (step.stack[-1] if step.stack else "")
    parts = ['<div class="step-cell">']
    if fn:
        parts.append(f'<div class="fn mono">{escape(fn)}()</div>')
    parts.append(f"<code>{escape(' '.join(step.label.split()))}</code>")
    if step.partial and trace.violation is not None:
        parts.append(f'<div class="fails">&#10007; {escape(trace.violation.prop)} fails here</div>')
    where = f'<span class="model">{escape(step.source.file)}:{step.source.line}</span>'
    if step.kernel is not None:
        where += (
            f' &middot; <span class="kernel" title="{escape(step.kernel.function)}">'
            f"{escape(step.kernel.file)}:{step.kernel.line}</span>"
        )
    parts.append(f'<div class="where mono">{where}</div>')
    parts.append(_loop_mark(trace, number - 1) if trace.loop is not None else "")
    parts.append("</div>")
    return "".join(parts)


def _changes(step: TraceStep) -> str:
    if not step.changes:
        return '<div class="changes"><span class="none">no shared variable changed</span></div>'
    items = " ".join(
        f'<mark class="changed mono">{escape(name)} = {escape(value)}</mark>'
        for name, value in step.changes.items()
    )
    return f'<div class="changes">{items}</div>'


def _state_details(values: Values, changed: set[str], summary: str, opened: bool = False) -> str:
    shared = [(n, v) for n, (v, is_shared) in values.items() if is_shared]
    local = [(n, v) for n, (v, is_shared) in values.items() if not is_shared]
    body = _vars_table(shared, changed)
    if local:
        body += (
            "<details><summary>locals and program counters</summary>"
            f"{_vars_table(local, changed)}</details>"
        )
    attr = " open" if opened else ""
    return f'<details class="state"{attr}><summary>{summary}</summary>{body}</details>'


def _vars_table(values: list[tuple[str, str]], changed: set[str]) -> str:
    rows = []
    for name, value in values:
        cls = ' class="changed"' if name in changed else ""
        rows.append(
            f'<tr{cls}><td class="name mono">{escape(name)}</td>'
            f'<td class="mono">{escape(value)}</td></tr>'
        )
    return '<table class="vars">' + "".join(rows) + "</table>"


def result_title(results: list[Result]) -> str:
    """A page title naming the specs checked."""
    names = ", ".join(dict.fromkeys(r.spec for r in results))
    return f"kverify: {names}" if names else "kverify report"
