"""Liveness under fairness: fair cycles in the state graph, found through strongly connected
components, and lasso counterexamples.

Every temporal property becomes a *leads-to* ``P ~> Q`` watched by a one-bit monitor
(``pending``: a P-state was seen and no Q-state since):

* ``always eventually Q``  is  ``true ~> Q``;
* ``eventually Q``         is  the monitor pending from the start, with P = false;
* ``always P``             is  ``!P ~> false`` (once pending, pending for ever);
* ``P ~> Q``               as written.

The property fails when a fair run keeps the monitor pending for ever.  Such a run ends in a
cycle of pending states (a *lasso*), or in a state where no step is enabled (a terminal state,
which stutters for ever).  The check, on the full reachable graph (no partial-order reduction):

1. build the graph: successors, and for each state the set of processes with an enabled step;
2. explore the product of the graph and the monitor (breadth-first, so prefixes are shortest);
   ``pending`` = the states ``s`` with ``(s, pending)`` reachable;
3. a terminal state in ``pending`` is a violation (infinite stuttering);
4. otherwise look for a fair strongly connected component (SCC) of the subgraph induced by
   ``pending`` (Tarjan's algorithm, iterative).  A non-trivial SCC C is fair when, for every
   process p with a fairness assumption,

   * weak:   p takes a step inside C, or p is disabled in some state of C;
   * strong: p takes a step inside C, or p is disabled in every state of C.

   When a weak condition fails, no cycle inside C is fair (p is enabled all along and never
   taken) and C is dropped.  When only strong conditions fail, a fair cycle inside C must avoid
   the states where such a p is enabled: they are removed and the SCCs of what is left are
   examined again (the Emerson-Lei refinement).  Each round removes states, so it ends.
5. the counterexample: a shortest product path to the nearest state of the fair SCC, then a
   cycle inside the SCC that takes one step of every fair process that moves in it and passes
   through a state where every other weakly fair process is disabled.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from kverify.explore.compile import CompiledSystem, StepFailure, _Emitter, _predicate_source
from kverify.ir import expr as ir
from kverify.ir.system import Fairness, Property, State, TransitionSystem
from kverify.result import Verdict, Violation
from kverify.trace.build import build_trace
from kverify.trace.model import TraceViolation

Pred = Callable[[State], bool]


class LimitReached(Exception):
    """The state graph grew past a limit: liveness verdicts are incomplete."""


@dataclass
class Graph:
    """The reachable state graph: ``succ[i]`` lists (transition id, state index);
    ``enabled[i]`` is the bit set of processes with an enabled step in state ``i``;
    ``terminal[i]`` says no step at all can fire (a step that fails a check counts as able
    to fire: the run ends in an error, which the safety search reports)."""

    states: list[State] = field(default_factory=list)
    index: dict[State, int] = field(default_factory=dict)
    succ: list[list[tuple[int, int]]] = field(default_factory=list)
    enabled: list[int] = field(default_factory=list)
    terminal: list[bool] = field(default_factory=list)
    initial: list[int] = field(default_factory=list)

    def add(self, state: State) -> int:
        n = self.index.get(state)
        if n is None:
            n = len(self.states)
            self.index[state] = n
            self.states.append(state)
        return n


def build_graph(compiled: CompiledSystem, max_states: int | None = None,
                deadline: float | None = None) -> Graph:
    """Every reachable state and every step between them."""
    g = Graph()
    for s in compiled.system.initial_states:
        if s not in g.index:
            g.initial.append(g.add(s))
    pid_of = [t.pid for t in compiled.system.transitions]
    k = 0
    while k < len(g.states):
        if max_states is not None and len(g.states) > max_states:
            raise LimitReached(f"max-states limit {max_states} reached")
        if deadline is not None and not k % 1024 and time.perf_counter() > deadline:
            raise LimitReached("time limit reached")
        state = g.states[k]
        succ: list[tuple[int, int]] = []
        enabled = 0
        failing = False
        for tid, step in compiled.candidates(state):
            try:
                nxt = step(state)
            except StepFailure:
                failing = True
                continue
            if nxt is not None:
                enabled |= 1 << pid_of[tid]
                succ.append((tid, g.add(nxt)))
        g.succ.append(succ)
        g.enabled.append(enabled)
        g.terminal.append(not succ and not failing)
        k += 1
    return g


def compile_predicates(exprs: list[ir.Expr]) -> list[Pred]:
    """State predicates as Python functions (the same code generator as the steps)."""
    em = _Emitter()
    source = "\n".join(_predicate_source(f"pred_{k}", e, em) for k, e in enumerate(exprs))
    namespace: dict[str, object] = dict(em.env)
    exec(compile(source, "<kverify:liveness>", "exec"), namespace)
    return [namespace[f"pred_{k}"] for k in range(len(exprs))]  # type: ignore[misc]


TRUE = ir.Const(1)
FALSE = ir.Const(0)


def monitor(prop: Property) -> tuple[ir.Expr, ir.Expr, bool]:
    """(P, Q, pending from the start whatever P says) of the leads-to a property stands for."""
    t = prop.temporal
    assert t is not None
    if t.kind == "leads_to":
        assert t.q is not None
        return t.p, t.q, False
    if t.kind == "always_eventually":
        return TRUE, t.p, False
    if t.kind == "eventually":
        return FALSE, t.p, True
    if t.kind == "always":
        return ir.Unary("!", t.p), FALSE, False
    raise ValueError(t.kind)


# --------------------------------------------------------------------------- SCCs


def tarjan(nodes: set[int], succ: list[list[tuple[int, int]]]) -> list[list[int]]:
    """The strongly connected components of the subgraph induced by ``nodes`` (iterative)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, k = work[-1]
            edges = succ[v]
            while k < len(edges):
                w = edges[k][1]
                k += 1
                if w not in nodes:
                    continue
                if w not in index:
                    work[-1] = (v, k)
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, 0))
                    break
                if w in on_stack and index[w] < low[v]:
                    low[v] = index[w]
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    if low[v] < low[u]:
                        low[u] = low[v]
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    out.append(comp)
    return out


def _nontrivial(comp: list[int], succ: list[list[tuple[int, int]]]) -> bool:
    if len(comp) > 1:
        return True
    v = comp[0]
    return any(w == v for _, w in succ[v])


def fair_sccs(nodes: set[int], g: Graph, pid_of: list[int],
              fairness: tuple[Fairness, ...]) -> list[set[int]]:
    """The fair SCCs (after the Emerson-Lei refinement) inside ``nodes``; each holds a fair
    cycle.  Without fairness every non-trivial SCC counts."""
    found: list[set[int]] = []
    work = [set(nodes)]
    while work:
        part = work.pop()
        for comp in tarjan(part, g.succ):
            if not _nontrivial(comp, g.succ):
                continue
            cset = set(comp)
            taken = 0
            for v in comp:
                for tid, w in g.succ[v]:
                    if w in cset:
                        taken |= 1 << pid_of[tid]
            some_disabled = 0
            all_disabled = -1
            for v in comp:
                some_disabled |= ~g.enabled[v]
                all_disabled &= ~g.enabled[v]
            weak_bad = False
            strong_bad = 0
            for f in fairness:
                bit = 1 << f.pid
                if taken & bit:
                    continue
                if f.kind == "weak" and not some_disabled & bit:
                    weak_bad = True
                if f.kind == "strong" and not all_disabled & bit:
                    strong_bad |= bit
            if weak_bad:
                continue
            if not strong_bad:
                found.append(cset)
                continue
            rest = {v for v in comp if not g.enabled[v] & strong_bad}
            if rest:
                work.append(rest)
    return found


# --------------------------------------------------------------------------- the check


FULL_GRAPH_NOTE = "liveness: checked on the full state graph, without partial-order reduction"


@dataclass(frozen=True)
class LivenessOutcome:
    """Verdicts of the liveness properties, their violations, and notes for the result."""

    properties: dict[str, Verdict]
    violations: tuple[Violation, ...]
    notes: tuple[str, ...]
    states: int = 0


def check_liveness(compiled: CompiledSystem, *, fairness: bool = True,
                   max_states: int | None = None, time_limit: float | None = None,
                   graph: Graph | None = None) -> LivenessOutcome:
    """Check every ``liveness`` property of the compiled system on its full state graph."""
    system = compiled.system
    props = [p for p in system.properties if p.kind == "liveness"]
    if not props:
        return LivenessOutcome({}, (), ())
    notes = [FULL_GRAPH_NOTE]
    assumed = system.fairness if fairness else ()
    if not fairness:
        notes.append("liveness: no fairness assumed (--no-fairness)")
    deadline = time.perf_counter() + time_limit if time_limit is not None else None
    try:
        g = graph if graph is not None else build_graph(compiled, max_states, deadline)
    except LimitReached as exc:
        notes.append(f"liveness: {exc}")
        return LivenessOutcome({p.name: Verdict.INCOMPLETE for p in props}, (), tuple(notes))
    verdicts: dict[str, Verdict] = {}
    violations: list[Violation] = []
    for prop in props:
        found = check_property(system, g, prop, assumed)
        verdicts[prop.name] = Verdict.HOLDS if found is None else Verdict.VIOLATED
        if found is not None:
            violations.append(found)
    return LivenessOutcome(verdicts, tuple(violations), tuple(notes), len(g.states))


def pending_states(system: TransitionSystem, g: Graph, prop: Property
                   ) -> tuple[set[int], dict[int, tuple[int, int]], list[int], dict[int, int]]:
    """The product of the graph and the monitor, explored breadth-first.

    Returns the states ``s`` with ``(s, pending)`` reachable, the parent links of product nodes
    (node = 2 * state + pending -> (transition id, parent node)), the product roots, and the
    distance of every reached pending state from a root."""
    p_expr, q_expr, start_pending = monitor(prop)
    p_pred, q_pred = compile_predicates([p_expr, q_expr])
    pv = [bool(p_pred(s)) for s in g.states]
    qv = [bool(q_pred(s)) for s in g.states]
    parent: dict[int, tuple[int, int]] = {}
    dist: dict[int, int] = {}
    roots = []
    queue: deque[int] = deque()
    for i in g.initial:
        m = int((start_pending or pv[i]) and not qv[i])
        node = 2 * i + m
        if node not in dist:
            dist[node] = 0
            roots.append(node)
            queue.append(node)
    while queue:
        node = queue.popleft()
        i, m = divmod(node, 2)
        for tid, j in g.succ[i]:
            nm = int((m or pv[j]) and not qv[j])
            nxt = 2 * j + nm
            if nxt not in dist:
                dist[nxt] = dist[node] + 1
                parent[nxt] = (tid, node)
                queue.append(nxt)
    pending = {node // 2 for node in dist if node % 2}
    pdist = {node // 2: d for node, d in dist.items() if node % 2}
    return pending, parent, roots, pdist


def check_property(system: TransitionSystem, g: Graph, prop: Property,
                   fairness: tuple[Fairness, ...]) -> Violation | None:
    """The violation of one liveness property (a lasso), or None when it holds."""
    pending, parent, _, pdist = pending_states(system, g, prop)
    if not pending:
        return None
    pid_of = [t.pid for t in system.transitions]
    best: tuple[int, int, set[int] | None] | None = None  # (distance, entry, SCC or None)
    for i in pending:
        if g.terminal[i] and (best is None or pdist[i] < best[0]):
            best = (pdist[i], i, None)
    for scc in fair_sccs(pending, g, pid_of, fairness):
        entry = min(scc, key=lambda v: (pdist[v], v))
        if best is None or pdist[entry] < best[0]:
            best = (pdist[entry], entry, scc)
    if best is None:
        return None
    _, entry, comp = best
    prefix = _prefix(g, parent, 2 * entry + 1)
    root_state = g.states[prefix[0]]
    path = [(tid, g.states[j]) for tid, j in prefix[1]]
    if comp is None:
        cycle: list[tuple[int, int]] = []
    else:
        cycle = _fair_cycle(g, comp, entry, pid_of, fairness)
    path += [(tid, g.states[j]) for tid, j in cycle]
    loop = len(prefix[1])
    message = _message(system, g, prop, entry, cycle, comp is None)
    violation = TraceViolation(prop.name, "liveness", message)
    trace = build_trace(system, root_state, path, violation, loop=loop)
    return Violation(prop.name, "liveness", message, trace)


def _prefix(g: Graph, parent: dict[int, tuple[int, int]], node: int) -> tuple[int, list[tuple[int, int]]]:
    steps: list[tuple[int, int]] = []
    while node in parent:
        tid, prev = parent[node]
        steps.append((tid, node // 2))
        node = prev
    steps.reverse()
    return node // 2, steps


def _bfs(g: Graph, comp: set[int], start: int, goal: Callable[[int], bool],
         nonempty: bool = False) -> list[tuple[int, int]]:
    """A shortest path inside ``comp`` from ``start`` to a state satisfying ``goal``."""
    if goal(start) and not nonempty:
        return []
    back: dict[int, tuple[int, int]] = {}
    queue: deque[int] = deque([start])
    seen = {start} if not nonempty else set()
    while queue:
        v = queue.popleft()
        for tid, w in g.succ[v]:
            if w not in comp or w in seen:
                continue
            seen.add(w)
            back[w] = (tid, v)
            if goal(w):
                steps = []
                node = w
                while True:
                    tid2, prev = back[node]
                    steps.append((tid2, node))
                    node = prev
                    if node == start and (not nonempty or len(steps) > 0):
                        break
                steps.reverse()
                return steps
            queue.append(w)
    raise AssertionError("no path inside a strongly connected component")


def _fair_cycle(g: Graph, comp: set[int], entry: int, pid_of: list[int],
                fairness: tuple[Fairness, ...]) -> list[tuple[int, int]]:
    """A cycle from ``entry`` back to it inside ``comp`` that is fair: it takes a step of every
    fair process that moves inside ``comp`` and visits a state where each other weakly fair
    process is disabled."""
    cycle: list[tuple[int, int]] = []
    cur = entry
    for f in fairness:
        bit = 1 << f.pid
        edges = [(v, tid, w) for v in comp for tid, w in g.succ[v] if w in comp and pid_of[tid] == f.pid]
        if edges:
            sources = {v for v, _, _ in edges}
            cycle += _bfs(g, comp, cur, sources.__contains__)
            cur = cycle[-1][1] if cycle else cur
            tid, w = next((tid, w) for v, tid, w in sorted(edges) if v == cur)
            cycle.append((tid, w))
            cur = w
        elif f.kind == "weak":
            cycle += _bfs(g, comp, cur, _disabled(g, bit))
            cur = cycle[-1][1] if cycle else cur
    if cur != entry or not cycle:
        cycle += _bfs(g, comp, cur, lambda v: v == entry, nonempty=not cycle)
    return cycle


def _disabled(g: Graph, bit: int) -> Callable[[int], bool]:
    """Whether a state enables no step of the process whose bit is ``bit``."""
    return lambda v: not g.enabled[v] & bit


def _message(system: TransitionSystem, g: Graph, prop: Property, entry: int,
             cycle: list[tuple[int, int]], terminal: bool) -> str:
    t = prop.temporal
    assert t is not None
    what = {
        "always": "is false in a state of this run",
        "eventually": "never holds on this run",
        "always_eventually": "stops holding for ever on this run",
        "leads_to": "holds and what it leads to never follows",
    }[t.kind]
    if t.kind != "leads_to":
        text = f"`{prop.description}` {what}"
    else:
        text = f"`{prop.description}`: the premise {what}"
    states = [entry] + [w for _, w in cycle]
    moved = {system.transitions[tid].pid for tid, _ in cycle}
    waiting = []
    table = system.by_process()
    for p in system.processes:
        if p.pid in moved:
            continue
        pc = g.states[entry][p.pc_slot]
        if pc == p.end_pc:
            continue
        labels = {tr.label for tr in table[p.pid].get(pc, [])}
        where = " or ".join(f"`{x}`" for x in sorted(labels)) or f"pc {pc}"
        en = [g.enabled[v] >> p.pid & 1 for v in states]
        how = ("enabled all along, never scheduled" if all(en) else
               "enabled now and then, never scheduled" if any(en) else "blocked")
        waiting.append(f"{p.name} at {where} ({how})")
    if terminal:
        tail = "; no step is enabled: the run stays in its last state for ever"
    else:
        some = "step repeats" if len(cycle) == 1 else f"{len(cycle)} steps repeat"
        tail = f"; the last {some} for ever"
    stuck = ("; never moving: " + "; ".join(waiting)) if waiting else ""
    return text + tail + stuck
