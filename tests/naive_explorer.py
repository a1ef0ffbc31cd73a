"""An independent oracle: explores a TransitionSystem by interpreting the IR ops directly.

It shares nothing with ``kverify.explore`` (no compiled code, no store, no frontier): states
are plain tuples in a dict, expressions are evaluated by a recursive interpreter with C
semantics.  The engine must agree with it on reachable states, violated properties and the
length of the shortest counterexample.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from kverify.ir import expr as ir
from kverify.ir.system import State, Transition, TransitionSystem


class Failure(Exception):
    """A step or predicate stopped: ``prop`` is the violated property."""

    def __init__(self, prop: str) -> None:
        super().__init__(prop)
        self.prop = prop


def _slot(loc: ir.Loc, s: list[int]) -> int:
    if isinstance(loc, ir.Static):
        return loc.slot
    k = evaluate(loc.key, s) - loc.shift
    if not 0 <= k < len(loc.bases):
        raise Failure("model-error")
    return loc.bases[k] + loc.offset


def _c_div(a: int, b: int) -> int:
    if b == 0:
        raise Failure("model-error")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


ARITH = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _c_div,
    "%": lambda a, b: a - b * _c_div(a, b),
    "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b),
    "<=": lambda a, b: int(a <= b),
    ">": lambda a, b: int(a > b),
    ">=": lambda a, b: int(a >= b),
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b,
    ">>": lambda a, b: a >> b,
}


def evaluate(e: ir.Expr, s: list[int]) -> int:
    """The value of an expression (booleans are 0/1; && and || short-circuit)."""
    if isinstance(e, ir.Const):
        return e.value
    if isinstance(e, ir.Read):
        return s[_slot(e.loc, s)]
    if isinstance(e, ir.Unary):
        v = evaluate(e.arg, s)
        return {"-": -v, "!": int(not v), "~": ~v}[e.op]
    if isinstance(e, ir.Binary):
        if e.op == "&&":
            return int(bool(evaluate(e.left, s)) and bool(evaluate(e.right, s)))
        if e.op == "||":
            return int(bool(evaluate(e.left, s)) or bool(evaluate(e.right, s)))
        return int(ARITH[e.op](evaluate(e.left, s), evaluate(e.right, s)))
    if isinstance(e, ir.Ite):
        return evaluate(e.then, s) if evaluate(e.cond, s) else evaluate(e.other, s)
    raise NotImplementedError(f"the oracle does not interpret {type(e).__name__}")


def fire(system: TransitionSystem, t: Transition, state: State) -> State | None:
    """The state after ``t`` (None if a guard is false); raises Failure on a violation."""
    s = list(state)
    for op in t.ops:
        if isinstance(op, ir.Guard):
            if not evaluate(op.cond, s):
                return None
        elif isinstance(op, ir.Check):
            if not evaluate(op.cond, s):
                raise Failure(op.prop)
        elif isinstance(op, ir.Assign):
            value = evaluate(op.value, s)
            if not op.lo <= value <= op.hi:
                raise Failure("model-error")
            s[_slot(op.loc, s)] = value
        elif isinstance(op, ir.Fail):
            raise Failure("model-error")
        else:
            raise NotImplementedError(
                f"the oracle does not interpret {type(op).__name__}"
            )
    s[system.processes[t.pid].pc_slot] = t.pc_to
    return tuple(s)


@dataclass
class NaiveResult:
    """Reachable states with their BFS depth, and the shortest violation length per property."""

    depth: dict[State, int] = field(default_factory=dict)
    shortest: dict[str, int] = field(default_factory=dict)

    def violate(self, prop: str, length: int) -> None:
        self.shortest[prop] = min(length, self.shortest.get(prop, length))


def _state_violations(
    system: TransitionSystem, state: State, kinds: tuple[str, ...]
) -> set[str]:
    bad = set()
    for prop in system.properties:
        if prop.kind in kinds and prop.expr is not None:
            try:
                if not evaluate(prop.expr, list(state)):
                    bad.add(prop.name)
            except Failure:
                bad.add("model-error")
    return bad


def _done(system: TransitionSystem, state: State) -> bool:
    return all(p.daemon or state[p.pc_slot] == p.end_pc for p in system.processes)


def explore(system: TransitionSystem) -> NaiveResult:
    """Breadth-first enumeration with the engine's semantics (violating states not expanded)."""
    out = NaiveResult()
    queue: deque[State] = deque()
    for s0 in system.initial_states:
        if s0 not in out.depth:
            out.depth[s0] = 0
            queue.append(s0)
    while queue:
        state = queue.popleft()
        d = out.depth[state]
        bad = _state_violations(system, state, ("invariant",))
        for prop in bad:
            out.violate(prop, d)
        if bad:
            continue
        moved = False
        for t in system.transitions:
            if state[system.processes[t.pid].pc_slot] != t.pc_from:
                continue
            try:
                nxt = fire(system, t, state)
            except Failure as f:
                out.violate(f.prop, d + 1)
                moved = True
                continue
            if nxt is None:
                continue
            moved = True
            if nxt not in out.depth:
                out.depth[nxt] = d + 1
                queue.append(nxt)
        if not moved:
            for prop in _state_violations(system, state, ("final",)):
                out.violate(prop, d)
            if system.check_deadlock and not _done(system, state):
                out.violate("deadlock", d)
    return out
