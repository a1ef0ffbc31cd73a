"""A small state space as a Graphviz DOT graph, the counterexample path highlighted.

Nodes are the stored states (``s0`` ... in discovery order; the tooltip shows the shared
variables), edges the steps between them labelled ``process: statement``.  Initial states are
drawn double, states that violate a property red, and the steps of the first counterexample
thick and red; a step that fails a check leads to a red ``violation`` node.
"""

from __future__ import annotations

from kverify.explore.compile import CompiledSystem, StepFailure
from kverify.explore.store import StateStore
from kverify.result import Result
from kverify.trace.text import shorten

LABEL_WIDTH = 40


def render_dot(compiled: CompiledSystem, store: StateStore, result: Result) -> str:
    """The graph of every state in ``store`` and every step between two of them."""
    system = compiled.system
    unpack, pack = compiled.packer.unpack, compiled.packer.pack
    path_edges, path_nodes, bad_nodes, fail_edge = _highlights(compiled, store, result)
    lines = [
        f'digraph "{_esc(system.name)}" {{',
        '  graph [rankdir=TB, fontname="Helvetica"];',
        '  node [shape=circle, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    initial = {pack(*s) for s in system.initial_states}
    for i, key in enumerate(store.packed):
        state = unpack(key)
        attrs = [f'label="s{i}"', f'tooltip="{_esc(_tooltip(compiled, state))}"']
        if key in initial:
            attrs.append("shape=doublecircle")
        if i in bad_nodes:
            attrs.append('style=filled, fillcolor="#ffb3b3"')
        elif i in path_nodes:
            attrs.append('style=filled, fillcolor="#ffe5e5"')
        lines.append(f"  s{i} [{', '.join(attrs)}];")
    failing = False
    for i, key in enumerate(store.packed):
        state = unpack(key)
        for tid, step in compiled.candidates(state):
            t = system.transitions[tid]
            label = _esc(f"{system.processes[t.pid].name}: {shorten(t.label, LABEL_WIDTH)}")
            try:
                nxt = step(state)
            except StepFailure:
                if fail_edge == (i, tid):
                    failing = True
                    lines.append(f'  s{i} -> violation [label="{label}", color=red, penwidth=2.5];')
                continue
            if nxt is None:
                continue
            j = store.index.get(pack(*nxt))
            if j is None:
                continue
            hot = (i, j, tid) in path_edges
            style = ", color=red, penwidth=2.5" if hot else ""
            lines.append(f'  s{i} -> s{j} [label="{label}"{style}];')
    if failing:
        lines.append('  violation [shape=octagon, style=filled, fillcolor="#ff6666"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _highlights(
    compiled: CompiledSystem, store: StateStore, result: Result
) -> tuple[set[tuple[int, int, int]], set[int], set[int], tuple[int, int] | None]:
    pack = compiled.packer.pack
    edges: set[tuple[int, int, int]] = set()
    nodes: set[int] = set()
    bad: set[int] = set()
    fail: tuple[int, int] | None = None
    trace = result.trace
    if trace is None:
        return edges, nodes, bad, fail
    previous = store.index.get(pack(*trace.initial))
    if previous is not None:
        nodes.add(previous)
    for step in trace.steps:
        if step.partial:
            if previous is not None:
                fail = (previous, step.tid)
            break
        current = store.index.get(pack(*step.state))
        if previous is not None and current is not None:
            edges.add((previous, current, step.tid))
        if current is not None:
            nodes.add(current)
        previous = current
    if fail is None and previous is not None:
        bad.add(previous)
    return edges, nodes, bad, fail


def _tooltip(compiled: CompiledSystem, state: tuple[int, ...]) -> str:
    layout = compiled.system.layout
    return "\\n".join(
        f"{v.name}={v.show(state, layout)}"
        for v in layout.variables
        if v.kind not in ("local",)
    )


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
