"""Compile the IR of each transition to a Python function, once.

The explicit engine never walks an expression tree while it searches: every transition becomes
one generated function ``state -> next state | None`` (None: a guard is false, the step is
disabled).  A failed check raises :class:`CheckFailed`; a value out of range, a null
dereference or a corrupt list raises :class:`ModelError`.  Both carry the state the step had
reached, so the engine can show it in the trace.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kverify.ir import expr as ir
from kverify.ir.system import State, TransitionSystem

Step = Callable[[State], "State | None"]


class StepFailure(Exception):
    """A step stopped before its end; ``state`` is the state reached so far."""

    def __init__(self, prop: str, message: str, state: State | None = None) -> None:
        super().__init__(message)
        self.prop = prop
        self.message = message
        self.state = state


class CheckFailed(StepFailure):
    """An assert, warn_on or ensures of the model was false."""


class ModelError(StepFailure):
    """The model did something the language forbids (out of range, null, list corruption)."""

    def __init__(self, message: str, state: State | None = None) -> None:
        super().__init__("model-error", message, state)


# --------------------------------------------------------------------------- runtime helpers


def _fail(n: list[int], message: str) -> int:
    raise ModelError(message, tuple(n))


def _check(n: list[int], prop: str, message: str) -> None:
    raise CheckFailed(prop, message, tuple(n))


def _div(n: list[int], a: int, b: int, what: str) -> int:
    if b == 0:
        _fail(n, f"division by zero in {what}")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _mod(n: list[int], a: int, b: int, what: str) -> int:
    return a - b * _div(n, a, b, what)


def _shift(n: list[int], a: int, b: int, op: str) -> int:
    """C shifts, with the undefined cases (negative or too wide a count) as model errors."""
    if not 0 <= b < 32:
        _fail(n, f"shift count {b} out of range 0..31 in {op}")
    return a << b if op == "<<" else a >> b


def _list_len(n: list[int], first: int, cap: int) -> int:
    for k in range(cap):
        if n[first + k] == 0:
            return k
    return cap


def _list_first(n: list[int], first: int, what: str) -> int:
    if n[first] == 0:
        _fail(n, f"list_first_entry on the empty list {what}")
    return n[first]


def _place(n: list[int], table: ir.NodeTable, elem: int) -> tuple[int, int, int]:
    """(head first slot, capacity, index in the list) of an element that is on a list."""
    if not 0 < elem <= len(table.node_slots):
        _fail(n, f"null or invalid {table.type_name} on a list operation")
    head_no = n[table.node_slots[elem - 1]]
    first, cap = table.heads[head_no - 1]
    for k in range(cap):
        if n[first + k] == elem:
            return first, cap, k
    _fail(n, f"list corruption: {table.type_name} node not found on its list")
    raise AssertionError  # unreachable


def _list_next(n: list[int], table: ir.NodeTable, elem: int) -> int:
    if n[table.node_slots[elem - 1]] == 0:
        _fail(n, f"next of a {table.type_name} that is on no list")
    first, cap, k = _place(n, table, elem)
    return n[first + k + 1] if k + 1 < cap else 0


def _list_remove(n: list[int], table: ir.NodeTable, elem: int) -> None:
    if not 0 < elem <= len(table.node_slots):
        _fail(n, f"list_del_init of a null {table.type_name}")
    if n[table.node_slots[elem - 1]] == 0:
        return
    first, cap, k = _place(n, table, elem)
    items = [n[first + j] for j in range(cap) if j != k] + [0]
    n[first : first + cap] = items
    n[table.node_slots[elem - 1]] = 0


def _list_insert(
    n: list[int], table: ir.NodeTable, elem: int, where: str, first: int, cap: int, pos: int
) -> None:
    if not 0 < elem <= len(table.node_slots):
        _fail(n, f"list insertion of a null {table.type_name}")
    if n[table.node_slots[elem - 1]] != 0:
        _fail(n, f"list corruption: {table.type_name} added to a list while already on one")
    if where in ("after", "before"):
        if not 0 < pos <= len(table.node_slots) or n[table.node_slots[pos - 1]] == 0:
            _fail(n, f"list insertion next to a {table.type_name} that is on no list")
        first, cap, k = _place(n, table, pos)
        index = k + 1 if where == "after" else k
    else:
        index = 0 if where == "head" else _list_len(n, first, cap)
    items = [n[first + j] for j in range(cap) if n[first + j]]
    if len(items) == cap:
        _fail(n, f"list of {table.type_name} overflows its bound {cap}: raise the capacity")
    items.insert(index, elem)
    items += [0] * (cap - len(items))
    n[first : first + cap] = items
    head_no = table.heads.index((first, cap)) + 1
    n[table.node_slots[elem - 1]] = head_no


RUNTIME: dict[str, object] = {
    "_fail": _fail,
    "_check": _check,
    "_div": _div,
    "_shift": _shift,
    "_mod": _mod,
    "_list_len": _list_len,
    "_list_first": _list_first,
    "_list_next": _list_next,
    "_list_remove": _list_remove,
    "_list_insert": _list_insert,
}


# --------------------------------------------------------------------------- code generation

_PY_BINARY = {
    "+": "+", "-": "-", "*": "*", "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">",
    ">=": ">=", "&&": "and", "||": "or", "&": "&", "|": "|", "^": "^", "<<": "<<", ">>": ">>",
}  # fmt: skip
_BOOLEAN = {"==", "!=", "<", "<=", ">", ">=", "&&", "||"}


class _Emitter:
    """Turns IR trees into Python source; constants it needs go into ``self.env``."""

    def __init__(self) -> None:
        self.env: dict[str, object] = dict(RUNTIME)
        self._names: dict[int, str] = {}

    def constant(self, value: object) -> str:
        key = id(value)
        if key not in self._names:
            name = f"_c{len(self._names)}"
            self._names[key] = name
            self.env[name] = value
        return self._names[key]

    def loc(self, loc: ir.Loc) -> str:
        if isinstance(loc, ir.Static):
            return str(loc.slot)
        bases = self.constant(loc.bases)
        key = self.expr(loc.key)
        what = repr(loc.what)
        problem = "null dereference" if loc.shift else "index out of bounds"
        return (
            f"({bases}[_k] + {loc.offset} if 0 <= (_k := ({key}) - {loc.shift}) < {len(loc.bases)}"
            f" else _fail(n, {problem!r} + ' in ' + {what} + ' (value ' + str(_k + {loc.shift}) + ')'))"
        )

    def head(self, head: ir.ListHead) -> str:
        return self.loc(head.first)

    def expr(self, e: ir.Expr) -> str:
        if isinstance(e, ir.Const):
            return str(e.value)
        if isinstance(e, ir.Read):
            return f"n[{self.loc(e.loc)}]"
        if isinstance(e, ir.Unary):
            arg = self.expr(e.arg)
            return {"-": f"(-{arg})", "!": f"(not {arg})", "~": f"(~{arg})"}[e.op]
        if isinstance(e, ir.Binary):
            a, b = self.expr(e.left), self.expr(e.right)
            if e.op in ("<<", ">>"):
                return f"_shift(n, {a}, {b}, {e.op!r})"
            if e.op in ("/", "%"):
                fn = "_div" if e.op == "/" else "_mod"
                return f"{fn}(n, {a}, {b}, {e.op!r})"
            if e.op in ("&&", "||"):
                return f"(1 if ({a}) {_PY_BINARY[e.op]} ({b}) else 0)"
            return f"({a} {_PY_BINARY[e.op]} {b})"
        if isinstance(e, ir.Ite):
            return f"({self.expr(e.then)} if {self.expr(e.cond)} else {self.expr(e.other)})"
        if isinstance(e, ir.Lookup):
            values = self.constant(e.values)
            bad = f" or {values}[_j] == 0" if e.nonzero else ""
            return (
                f"(_fail(n, {e.what!r} + ' (value ' + str(_j + {e.shift}) + ')')"
                f" if not 0 <= (_j := ({self.expr(e.key)}) - {e.shift}) < {len(e.values)}{bad}"
                f" else {values}[_j])"
            )
        if isinstance(e, ir.ListLen):
            return f"_list_len(n, {self.head(e.head)}, {e.head.capacity})"
        if isinstance(e, ir.ListFirst):
            return f"_list_first(n, {self.head(e.head)}, {e.head.what!r})"
        if isinstance(e, ir.ListNext):
            return f"_list_next(n, {self.constant(e.table)}, {self.expr(e.elem)})"
        raise TypeError(f"not an expression: {e!r}")

    def value(self, e: ir.Expr) -> str:
        """An expression used as a stored integer (booleans become 0/1)."""
        text = self.expr(e)
        boolean = (isinstance(e, ir.Binary) and e.op in _BOOLEAN) or (isinstance(e, ir.Unary) and e.op == "!")
        return f"(1 if {text} else 0)" if boolean else text

    def op(self, op: ir.Op) -> list[str]:
        if isinstance(op, ir.Guard):
            return [f"if not ({self.expr(op.cond)}): return None"]
        if isinstance(op, ir.Check):
            return [f"if not ({self.expr(op.cond)}): _check(n, {op.prop!r}, {op.message!r})"]
        if isinstance(op, ir.Fail):
            return [f"_fail(n, {op.message!r})"]
        if isinstance(op, ir.Assign):
            known = _bounds(op.value)
            if known is not None and op.lo <= known[0] and known[1] <= op.hi:
                # in range whatever the state: store it straight (Python evaluates the value
                # before the location, as the two-line form does)
                return [f"n[{self.loc(op.loc)}] = {self.value(op.value)}"]
            msg = repr(f"{op.what} = ")
            rng = repr(f" is out of range {op.lo}..{op.hi}")
            return [
                f"_v = {self.value(op.value)}",
                f"if not ({op.lo} <= _v <= {op.hi}): _fail(n, {msg} + str(_v) + {rng})",
                f"n[{self.loc(op.loc)}] = _v",
            ]
        if isinstance(op, ir.ListRemove):
            return [f"_list_remove(n, {self.constant(op.table)}, {self.expr(op.elem)})"]
        if isinstance(op, ir.ListInsert):
            first = self.head(op.head) if op.head else "0"
            cap = op.head.capacity if op.head else 0
            pos = self.expr(op.pos) if op.pos is not None else "0"
            table = self.constant(op.table)
            return [f"_list_insert(n, {table}, {self.expr(op.elem)}, {op.where!r}, {first}, {cap}, {pos})"]
        raise TypeError(f"not an operation: {op!r}")


def _bounds(e: ir.Expr) -> tuple[int, int] | None:
    """Bounds on the values ``e`` can take in any state, where the expression alone tells
    them (constants, truth values, table look-ups); None when it depends on the state."""
    if isinstance(e, ir.Const):
        return e.value, e.value
    if (isinstance(e, ir.Binary) and e.op in _BOOLEAN) or (isinstance(e, ir.Unary) and e.op == "!"):
        return 0, 1
    if isinstance(e, ir.Lookup):
        # a key outside the table, or a 0 entry of a nonzero table, is a model error
        values = [v for v in e.values if v or not e.nonzero]
        return (min(values), max(values)) if values else None
    if isinstance(e, ir.Ite):
        a, b = _bounds(e.then), _bounds(e.other)
        return (min(a[0], b[0]), max(a[1], b[1])) if a is not None and b is not None else None
    return None


def _function_source(name: str, pc_slot: int, pc_to: int, ops: tuple[ir.Op, ...], em: _Emitter) -> str:
    # Guards and checks before the first write read the state tuple itself: a disabled step
    # then costs no copy.
    body = ["n = s"]
    copied = False
    for op in ops:
        if not copied and isinstance(op, (ir.Assign, ir.ListInsert, ir.ListRemove)):
            body.append("n = list(n)")
            copied = True
        body.extend(em.op(op))
    if not copied:
        body.append("n = list(n)")
    body.append(f"n[{pc_slot}] = {pc_to}")
    body.append("return tuple(n)")
    return f"def {name}(s):\n" + "".join(f"    {line}\n" for line in body)


def _predicate_source(name: str, e: ir.Expr, em: _Emitter) -> str:
    return f"def {name}(n):\n    return bool({em.expr(e)})\n"


@dataclass
class CompiledSystem:
    """A transition system with every step and predicate compiled to Python."""

    system: TransitionSystem
    steps: list[Step]
    by_pc: list[dict[int, tuple[tuple[int, Step], ...]]]  # per process: pc -> (tid, step)
    pc_slots: tuple[int, ...]
    invariants: list[tuple[str, Callable[[State], bool]]]
    finals: list[tuple[str, Callable[[State], bool]]]
    packer: struct.Struct
    source: str

    def candidates(self, state: State) -> list[tuple[int, Step]]:
        """The steps whose process sits at their start pc (their guards are not yet tried)."""
        out: list[tuple[int, Step]] = []
        for pid, table in enumerate(self.by_pc):
            out.extend(table.get(state[self.pc_slots[pid]], ()))
        return out

    def done(self, state: State) -> bool:
        """Every non-daemon process has finished."""
        return all(p.daemon or state[p.pc_slot] == p.end_pc for p in self.system.processes)

    def pack(self, state: State) -> bytes:
        return self.packer.pack(*state)

    def unpack(self, data: bytes) -> State:
        return self.packer.unpack(data)


def _format_for(lo: int, hi: int) -> str:
    for code, (a, b) in (("b", (-128, 127)), ("h", (-(2**15), 2**15 - 1)), ("i", (-(2**31), 2**31 - 1))):
        if a <= lo and hi <= b:
            return code
    return "q"


def compile_system(system: TransitionSystem) -> CompiledSystem:
    """Generate and load the Python code of every transition and state predicate."""
    em = _Emitter()
    chunks: list[str] = []
    for t in system.transitions:
        pc_slot = system.processes[t.pid].pc_slot
        chunks.append(_function_source(f"step_{t.tid}", pc_slot, t.pc_to, t.ops, em))
    preds = [p for p in system.properties if p.kind in ("invariant", "final") and p.expr is not None]
    for k, prop in enumerate(preds):
        assert prop.expr is not None
        chunks.append(_predicate_source(f"pred_{k}", prop.expr, em))
    source = "\n".join(chunks)
    namespace: dict[str, Any] = dict(em.env)
    exec(compile(source, f"<kverify:{system.name}>", "exec"), namespace)
    steps: list[Step] = [namespace[f"step_{t.tid}"] for t in system.transitions]
    by_pc: list[dict[int, list[tuple[int, Step]]]] = [{} for _ in system.processes]
    for t in system.transitions:
        by_pc[t.pid].setdefault(t.pc_from, []).append((t.tid, steps[t.tid]))
    frozen = [{pc: tuple(v) for pc, v in table.items()} for table in by_pc]
    invariants: list[tuple[str, Callable[[State], bool]]] = []
    finals: list[tuple[str, Callable[[State], bool]]] = []
    for k, prop in enumerate(preds):
        pair = (prop.name, namespace[f"pred_{k}"])
        (invariants if prop.kind == "invariant" else finals).append(pair)
    fmt = "<" + "".join(_format_for(s.lo, s.hi) for s in system.layout.slots)
    return CompiledSystem(
        system=system,
        steps=steps,
        by_pc=frozen,
        pc_slots=tuple(p.pc_slot for p in system.processes),
        invariants=invariants,
        finals=finals,
        packer=struct.Struct(fmt),
        source=source,
    )
