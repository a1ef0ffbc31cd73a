"""Encode the IR in z3: one function per node kind, over a per-step copy of the state vector.

This is the second interpretation of the trees in :mod:`kverify.ir.expr`; the first is the
generated Python of :mod:`kverify.explore.compile`, and the two must agree on every state.
A slot is a z3 ``Int``.  An expression becomes a :class:`Val`: its value (an ``Int`` or a
``Bool`` term) and the condition under which evaluating it is a model error, with ``&&``,
``||`` and ``?:`` short-circuiting exactly as the generated code does.  A transition becomes a
:class:`StepCode`: when it runs to its end, when a guard disables it, which property fails
under which condition, and the state vector it leaves.

Places where the generated Python would not raise a ``ModelError`` but crash (a negative
shift count, an element number outside a node table) are model errors here too.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import z3

from kverify.errors import KverifyError
from kverify.ir import expr as ir
from kverify.ir.system import State, Transition, TransitionSystem

Term: TypeAlias = z3.ExprRef
Report: TypeAlias = Callable[[str, z3.BoolRef], None]
Vec: TypeAlias = list[z3.ArithRef]

MODEL_ERROR = "model-error"
MAX_CASES = 256  # values a shift count may take before the encoding gives up
MAX_WIDTH = 64  # widest bit-vector the encoding uses
SHIFT_BITS = 40  # widest value the bit-vectors hold; larger `<<` results are model errors


@dataclass(frozen=True)
class Val:
    """An encoded expression: its value and the condition that evaluating it is a model error."""

    term: Term
    err: z3.BoolRef


@dataclass
class StepCode:
    """One transition encoded over a pre-state vector.

    ``done``: the ops ran to their end (the step fires normally); ``fails``: for each property,
    the condition that the step stops with that property violated; ``post``: the state after
    the step (meaningful when ``done``); ``written``: the slots ``post`` may change.
    """

    done: z3.BoolRef
    fails: dict[str, z3.BoolRef]
    post: Vec
    written: frozenset[int]


def as_bool(t: Term) -> z3.BoolRef:
    """A term as a truth value (an integer is true when it is not 0)."""
    return t if z3.is_bool(t) else t != 0


def _or(*conds: z3.BoolRef) -> z3.BoolRef:
    live = [c for c in conds if not z3.is_false(c)]
    if not live:
        return z3.BoolVal(False)
    if any(z3.is_true(c) for c in live):
        return z3.BoolVal(True)
    return live[0] if len(live) == 1 else z3.Or(*live)


def _and(*conds: z3.BoolRef) -> z3.BoolRef:
    live = [c for c in conds if not z3.is_true(c)]
    if not live:
        return z3.BoolVal(True)
    if any(z3.is_false(c) for c in live):
        return z3.BoolVal(False)
    return live[0] if len(live) == 1 else z3.And(*live)


def _select(cases: Sequence[tuple[z3.BoolRef, Term]], default: Term) -> Term:
    """``If(c0, v0, If(c1, v1, ... default))``."""
    out = default
    for cond, value in reversed(cases):
        out = z3.If(cond, value, out)
    return out


# --------------------------------------------------------------------------- value ranges


class Ranges:
    """Sound bounds of every slot and expression, for encodings that enumerate values.

    A slot's range is the hull of its initial values and every value a step may store in it
    (assigned values within the assignment's bounds, list elements, list numbers), so it
    holds in every reachable state.  The assigned values depend on the slot ranges: the
    widening is repeated until nothing changes, jumping to the assignment bounds after a few
    rounds so that it ends.
    """

    PRECISE_ROUNDS = 4

    def __init__(self, system: TransitionSystem) -> None:
        self.system = system
        # A slot holds its initial value or a value a step stored (within the store's bounds,
        # or the step failed); its declared range only bounds what may be stored.
        first = system.initial_states[0]
        self.slot = [(v, v) for v in first]
        for state in system.initial_states[1:]:
            for i, v in enumerate(state):
                self._widen(i, v, v)
        for t in system.transitions:
            self._widen(system.processes[t.pid].pc_slot, t.pc_to, t.pc_to)
        ops = [op for t in system.transitions for op in t.ops]
        rounds = 0
        changed = True
        while changed:
            changed = False
            for op in ops:
                changed |= self._widen_op(op, coarse=rounds >= self.PRECISE_ROUNDS)
            rounds += 1

    def _widen(self, i: int, lo: int, hi: int) -> bool:
        a, b = self.slot[i]
        self.slot[i] = (min(a, lo), max(b, hi))
        return self.slot[i] != (a, b)

    def _widen_op(self, op: ir.Op, coarse: bool) -> bool:
        changed = False
        if isinstance(op, ir.Assign):
            lo, hi = self.of(op.value)
            lo, hi = max(lo, op.lo), min(hi, op.hi)
            if lo <= hi:
                for i in ir.loc_slots(op.loc):
                    a, b = self.slot[i]
                    if coarse and (lo < a or hi > b):
                        # still growing after the precise rounds: widen to the store's bounds
                        lo, hi = min(lo, op.lo), max(hi, op.hi)
                    changed |= self._widen(i, lo, hi)
        elif isinstance(op, (ir.ListInsert, ir.ListRemove)):
            table = op.table
            for node in table.node_slots:
                changed |= self._widen(node, 0, len(table.heads))
            for first, cap in table.heads:
                for k in range(cap):
                    changed |= self._widen(first + k, 0, len(table.node_slots))
        return changed

    def width(self) -> int:
        """Bits of a signed bit-vector that holds every slot value, every bound an assignment
        checks and every intermediate value of every expression without overflow."""
        bounds = list(self.slot)
        for t in self.system.transitions:
            for op in t.ops:
                if isinstance(op, ir.Assign):
                    below, above = self.crossed(op)
                    bounds += [(op.lo, op.lo)] * below + [(op.hi, op.hi)] * above
                bounds.extend(self.of(e) for e in _subexpressions(op))
        for p in self.system.properties:
            if p.expr is not None:
                bounds.extend(self.of(e) for e in _walk(p.expr))
        # a table look-up compares its index (key - shift) with every position and the length
        roots: list[ir.Op | ir.Expr] = [op for t in self.system.transitions for op in t.ops]
        roots += [p.expr for p in self.system.properties if p.expr is not None]
        for root in roots:
            for node in _nodes(root, (ir.Dynamic, ir.Lookup)):
                lo, hi = self.of(node.key)
                size = len(node.bases) if isinstance(node, ir.Dynamic) else len(node.values)
                bounds += [(lo - node.shift, hi - node.shift), (0, size)]
        w = min(max(_width(lo, hi) for lo, hi in bounds), SHIFT_BITS) + 2
        if w > MAX_WIDTH:
            raise KverifyError(f"values need {w} bits; the bit-vector encoding stops at {MAX_WIDTH}")
        return w

    def crossed(self, op: ir.Assign) -> tuple[bool, bool]:
        """Whether a store's value can fall below its lower bound, and rise above its upper
        one: the only bounds the store compares (and the bit width must hold)."""
        lo, hi = self.of(op.value)
        return lo < op.lo, hi > op.hi

    def of(self, e: ir.Expr) -> tuple[int, int]:
        """Bounds of the values ``e`` may take (when its evaluation is not a model error)."""
        if isinstance(e, ir.Const):
            return e.value, e.value
        if isinstance(e, ir.Read):
            slots = ir.loc_slots(e.loc)
            if not slots:
                return 0, 0  # a location with no candidate slot: always a model error
            los, his = zip(*(self.slot[i] for i in slots))
            return min(los), max(his)
        if isinstance(e, ir.Unary):
            lo, hi = self.of(e.arg)
            return {"-": (-hi, -lo), "!": (0, 1), "~": (-hi - 1, -lo - 1)}[e.op]
        if isinstance(e, ir.Binary):
            return self._binary(e.op, self.of(e.left), self.of(e.right))
        if isinstance(e, ir.Ite):
            (a, b), (c, d) = self.of(e.then), self.of(e.other)
            return min(a, c), max(b, d)
        if isinstance(e, ir.Lookup):
            return (min(e.values), max(e.values)) if e.values else (0, 0)  # empty: always an error
        if isinstance(e, ir.ListLen):
            return 0, e.head.capacity
        return self._element(e)

    def _element(self, e: ir.Expr) -> tuple[int, int]:
        if isinstance(e, ir.ListFirst):
            slots = ir.head_slots(e.head)
        elif isinstance(e, ir.ListNext):
            slots = ir.table_slots(e.table) - set(e.table.node_slots)
        else:
            raise TypeError(f"not an expression: {e!r}")
        los, his = zip(*(self.slot[i] for i in slots), (0, 0))
        return min(los), max(his)

    @staticmethod
    def _binary(op: str, x: tuple[int, int], y: tuple[int, int]) -> tuple[int, int]:
        (a, b), (c, d) = x, y
        if op in ("==", "!=", "<", "<=", ">", ">=", "&&", "||"):
            return 0, 1
        if op == "+":
            return a + c, b + d
        if op == "-":
            return a - d, b - c
        if op == "*":
            products = (a * c, a * d, b * c, b * d)
            return min(products), max(products)
        if op in ("/", "%"):
            m = max(abs(a), abs(b))
            return -m, m
        if op in ("&", "|", "^"):
            w = _width(min(a, c), max(b, d))
            return -(1 << w), (1 << w) - 1
        if op == "<<":
            shifts = (max(c, 0), max(d, 0))
            values = [v << s for v in (a, b) for s in shifts]
            return min(values), max(values)
        if op == ">>":
            return min(a, 0), max(b, 0)
        raise TypeError(f"unknown operator {op!r}")


_EXPRS = (
    ir.Const, ir.Read, ir.Unary, ir.Binary, ir.Ite, ir.Lookup, ir.ListLen, ir.ListFirst, ir.ListNext,
)  # fmt: skip


def _nodes(e: object, kinds: tuple[type, ...]) -> list[Any]:
    """The nodes of the given kinds in ``e`` (``e`` included)."""
    out: list[Any] = []
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, kinds):
            out.append(x)
        if isinstance(x, (ir.Static, ir.NodeTable)) or not hasattr(x, "__dataclass_fields__"):
            continue
        stack.extend(getattr(x, f) for f in x.__dataclass_fields__)
    return out


def _walk(e: object) -> list[ir.Expr]:
    """``e`` and every expression inside it."""
    return _nodes(e, _EXPRS)


def _subexpressions(op: ir.Op) -> list[ir.Expr]:
    return _walk(op)


def _width(lo: int, hi: int) -> int:
    """Bits w such that every value of lo..hi lies in -2**w .. 2**w - 1."""
    return max(max(abs(lo), abs(hi)).bit_length(), 1)


# --------------------------------------------------------------------------- the encoder


class Encoder:
    """Encodes expressions and operations of one system over state vectors of z3 terms.

    With ``bits`` false a slot is an unbounded ``Int`` (for Spacer, whose engines work in
    linear integer arithmetic); with ``bits`` true it is a bit-vector wide enough for every
    value the ranges allow, with no overflow (for bounded model checking, which a SAT
    solver does best).  Comparisons and division are signed either way.
    """

    def __init__(self, system: TransitionSystem, bits: bool = False) -> None:
        self.system = system
        self.ranges = Ranges(system)
        self.bits = bits
        self.width = self.ranges.width() if bits else 0
        self._concats: dict[tuple[builtins.int, ...], z3.BitVecRef] = {}

    def num(self, value: int) -> z3.ArithRef:
        """A constant of the slot sort."""
        return z3.BitVecVal(value, self.width) if self.bits else z3.IntVal(value)

    def int(self, t: Term) -> z3.ArithRef:
        """A term as a number (booleans are 0/1, as in the generated Python)."""
        return z3.If(t, self.num(1), self.num(0)) if z3.is_bool(t) else t

    def value(self, model: z3.ModelRef, term: z3.ExprRef) -> builtins.int:
        """The integer a model gives a term of the slot sort."""
        v = model.eval(term, model_completion=True)
        return int(v.as_signed_long() if self.bits else v.as_long())

    def values(self, model: z3.ModelRef, terms: Sequence[z3.ExprRef]) -> tuple[builtins.int, ...]:
        """The integers a model gives ``terms`` of the slot sort; on bit-vectors one
        evaluation of their concatenation, split here (per-term calls dominate otherwise)."""
        if not self.bits or len(terms) < 2:
            return tuple(self.value(model, t) for t in terms)
        w = self.width
        key = tuple(t.get_id() for t in terms)
        whole = self._concats.get(key)
        if whole is None:
            whole = self._concats[key] = z3.Concat(*terms)
        packed = model.eval(whole, model_completion=True).as_long()
        half, mask = 1 << (w - 1), (1 << w) - 1
        raw = [(packed >> (w * k)) & mask for k in range(len(terms) - 1, -1, -1)]
        return tuple(v - (1 << w) if v >= half else v for v in raw)

    def _floor_shift(self, x: z3.ArithRef, k: builtins.int) -> z3.ArithRef:
        # Python's >> floors; so do z3's integer division and arithmetic shift right.
        return x >> k if self.bits else x / (1 << k)

    # -------------------------------------------------------------- state vectors

    def vector(self, tag: str) -> Vec:
        """Fresh integer constants, one per slot, named ``<slot name>@<tag>``."""
        make = (lambda n: z3.BitVec(n, self.width)) if self.bits else z3.Int
        return [make(f"{s.name}@{tag}") for s in self.system.layout.slots]

    def domain(self, s: Vec) -> z3.BoolRef:
        """Every slot holds a value of its (widened) range."""
        return _and(*(z3.And(lo <= x, x <= hi) for x, (lo, hi) in zip(s, self.ranges.slot)))

    def equals(self, s: Vec, state: State) -> z3.BoolRef:
        """``s`` is the concrete ``state``."""
        return _and(*(x == v for x, v in zip(s, state)))

    def initial(self, s: Vec) -> z3.BoolRef:
        """``s`` is one of the spec's initial states."""
        return _or(*(self.equals(s, state) for state in self.system.initial_states))

    # -------------------------------------------------------------- locations

    def where(self, loc: ir.Loc, s: Vec) -> tuple[list[tuple[z3.BoolRef, builtins.int]], z3.BoolRef]:
        """The slots a location may denote, each with its condition, and the error condition."""
        if isinstance(loc, ir.Static):
            return [(z3.BoolVal(True), loc.slot)], z3.BoolVal(False)
        key = self.expr(loc.key, s)
        k = self.int(key.term) - loc.shift
        n = len(loc.bases)
        lo, hi = self.ranges.of(loc.key)
        out = [(k == j, b + loc.offset) for j, b in enumerate(loc.bases) if lo <= j + loc.shift <= hi]
        inside = lo - loc.shift >= 0 and hi - loc.shift < n
        bad = z3.BoolVal(False) if inside else z3.Or(k < 0, k >= n)
        return out, _or(key.err, bad)

    def read(self, loc: ir.Loc, s: Vec) -> Val:
        cases, err = self.where(loc, s)
        if not cases:
            return Val(self.num(0), z3.BoolVal(True))
        return Val(_select([(c, s[i]) for c, i in cases[:-1]], s[cases[-1][1]]), err)

    # -------------------------------------------------------------- expressions

    def expr(self, e: ir.Expr, s: Vec) -> Val:
        """The value of ``e`` in state ``s`` and when its evaluation is a model error."""
        method = getattr(self, "_" + type(e).__name__.lower(), None)
        if method is None:
            raise TypeError(f"not an expression: {e!r}")
        result: Val = method(e, s)
        return result

    def _const(self, e: ir.Const, s: Vec) -> Val:
        return Val(self.num(e.value), z3.BoolVal(False))

    def _read(self, e: ir.Read, s: Vec) -> Val:
        return self.read(e.loc, s)

    def _unary(self, e: ir.Unary, s: Vec) -> Val:
        arg = self.expr(e.arg, s)
        if e.op == "!":
            return Val(z3.Not(as_bool(arg.term)), arg.err)
        x = self.int(arg.term)
        return Val(-x if e.op == "-" else -x - 1, arg.err)

    def _ite(self, e: ir.Ite, s: Vec) -> Val:
        c, a, b = self.expr(e.cond, s), self.expr(e.then, s), self.expr(e.other, s)
        cond = as_bool(c.term)
        if z3.is_bool(a.term) and z3.is_bool(b.term):
            term: Term = z3.If(cond, a.term, b.term)
        else:
            term = z3.If(cond, self.int(a.term), self.int(b.term))
        err = _or(c.err, _and(cond, a.err), _and(z3.Not(cond), b.err))
        return Val(term, err)

    def _binary(self, e: ir.Binary, s: Vec) -> Val:
        a, b = self.expr(e.left, s), self.expr(e.right, s)
        if e.op in ("&&", "||"):
            x, y = as_bool(a.term), as_bool(b.term)
            if e.op == "&&":
                return Val(z3.And(x, y), _or(a.err, _and(x, b.err)))
            return Val(z3.Or(x, y), _or(a.err, _and(z3.Not(x), b.err)))
        err = _or(a.err, b.err)
        x, y = self.int(a.term), self.int(b.term)
        compare = {
            "==": lambda: x == y, "!=": lambda: x != y, "<": lambda: x < y,
            "<=": lambda: x <= y, ">": lambda: x > y, ">=": lambda: x >= y,
            "+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y,
        }  # fmt: skip
        if e.op in compare:
            return Val(compare[e.op](), err)
        if e.op in ("/", "%"):
            return self._division(e.op, x, y, err)
        if e.op in ("&", "|", "^"):
            lo, hi = Ranges._binary("|", self.ranges.of(e.left), self.ranges.of(e.right))
            if self.bits:
                native = {"&": lambda: x & y, "|": lambda: x | y, "^": lambda: x ^ y}[e.op]()
                return Val(native, err)
            return Val(_bitwise(e.op, x, y, _width(lo, hi)), err)
        return self._shift(e, x, y, err)

    def _division(self, op: str, x: z3.ArithRef, y: z3.ArithRef, err: z3.BoolRef) -> Val:
        if self.bits:  # bit-vector signed division truncates toward zero, as C does
            q = x / z3.If(y == 0, self.num(1), y)
            return Val(q if op == "/" else x - y * q, _or(err, y == 0))
        # C division truncates toward zero; z3's integer division floors.
        ax = z3.If(x >= 0, x, -x)
        ay = z3.If(y >= 0, y, -y)
        q0 = ax / z3.If(y == 0, 1, ay)
        q = z3.If((x >= 0) == (y >= 0), q0, -q0)
        value = q if op == "/" else x - y * q
        return Val(value, _or(err, y == 0))

    def _shift(self, e: ir.Binary, x: z3.ArithRef, y: z3.ArithRef, err: z3.BoolRef) -> Val:
        lo, hi = self.ranges.of(e.right)
        if e.op == ">>":
            # Past the width of the shifted value every count gives its sign: 0 or -1.
            w = _width(*self.ranges.of(e.left))
            counts = range(max(lo, 0), min(max(hi, -1), w) + 1)
            cases = [(y == k, self._floor_shift(x, k)) for k in counts]
            default: Term = z3.If(x < 0, self.num(-1), self.num(0))
        else:
            counts = range(max(lo, 0), max(hi, -1) + 1)
            if len(counts) > MAX_CASES:
                raise KverifyError(f"the count of a `<<` ranges over {len(counts)} values")
            if self.bits:
                # Counts whose result would not fit the bit-vector are model errors here
                # (in C they are undefined behaviour); see docs/prove.md.
                w = _width(*self.ranges.of(e.left))
                fits = [k for k in counts if w + k <= self.width - 2]
                if len(fits) < len(counts):
                    err = _or(err, z3.And(y > (fits[-1] if fits else -1), x != 0))
                counts = range(counts.start, counts.start + len(fits))
            cases = [(y == k, x * (1 << k)) for k in counts]
            default = self.num(0)
        return Val(_select(cases, default), _or(err, y < 0) if lo < 0 else err)

    def _lookup(self, e: ir.Lookup, s: Vec) -> Val:
        key = self.expr(e.key, s)
        k = self.int(key.term) - e.shift
        cases = [(k == j, self.num(v)) for j, v in enumerate(e.values)]
        value = _select(cases, self.num(0))
        bad = [k < 0, k >= len(e.values)]
        if e.nonzero:
            bad += [k == j for j, v in enumerate(e.values) if v == 0]
        return Val(value, _or(key.err, z3.Or(*bad)))

    def heads(self, head: ir.ListHead, s: Vec) -> tuple[list[tuple[z3.BoolRef, builtins.int]], z3.BoolRef]:
        """The first slots a list head may start at, with conditions, and the error condition."""
        return self.where(head.first, s)

    def _listlen(self, e: ir.ListLen, s: Vec) -> Val:
        cases, err = self.heads(e.head, s)
        cap = e.head.capacity
        lengths = [
            (c, _select([(s[f + k] == 0, self.num(k)) for k in range(cap)], self.num(cap))) for c, f in cases
        ]
        return Val(_select(lengths[:-1], lengths[-1][1]) if lengths else self.num(0), err)

    def _listfirst(self, e: ir.ListFirst, s: Vec) -> Val:
        cases, err = self.heads(e.head, s)
        if not cases:
            return Val(self.num(0), z3.BoolVal(True))
        first = _select([(c, s[f]) for c, f in cases[:-1]], s[cases[-1][1]])
        return Val(first, _or(err, first == 0))

    def _listnext(self, e: ir.ListNext, s: Vec) -> Val:
        elem = self.expr(e.elem, s)
        x = self.int(elem.term)
        table = e.table
        places, missing = self.place(table, x, s)
        on_none = _or(*(_and(x == r, s[node] == 0) for r, node in enumerate(table.node_slots, 1)))
        cases = []
        for cond, first, cap, k in places:
            cases.append((cond, s[first + k + 1] if k + 1 < cap else self.num(0)))
        value = _select(cases, self.num(0))
        err = _or(elem.err, _outside(x, len(table.node_slots)), on_none, missing)
        return Val(value, err)

    # -------------------------------------------------------------- list places

    def place(
        self, table: ir.NodeTable, x: z3.ArithRef, s: Vec
    ) -> tuple[list[tuple[z3.BoolRef, builtins.int, builtins.int, builtins.int]], z3.BoolRef]:
        """Where element ``x`` (on some list) sits: mutually exclusive (condition, head first
        slot, capacity, index) cases, and the condition that it is not found where its node
        says (list corruption).  Assumes ``x`` is a valid element whose node is not 0."""
        cases: list[tuple[z3.BoolRef, int, int, int]] = []
        missing: list[z3.BoolRef] = []
        for r, node in enumerate(table.node_slots, 1):
            here = x == r
            missing.append(_and(here, s[node] != 0, z3.Or(s[node] < 1, s[node] > len(table.heads))))
            for h, (first, cap) in enumerate(table.heads, 1):
                on = _and(here, s[node] == h)
                earlier: list[z3.BoolRef] = []
                for k in range(cap):
                    hit = s[first + k] == r
                    cases.append((_and(on, hit, *[z3.Not(c) for c in earlier]), first, cap, k))
                    earlier.append(hit)
                missing.append(_and(on, *[z3.Not(c) for c in earlier]))
        return cases, _or(*missing)

    # -------------------------------------------------------------- operations

    def transition(self, t: Transition, s: Vec) -> StepCode:
        """Encode the ops of ``t`` and the final pc assignment over the pre-state ``s``."""
        run = _and(s[self.system.processes[t.pid].pc_slot] == t.pc_from)
        n: Vec = list(s)
        fails: dict[str, list[z3.BoolRef]] = {}

        def fail(prop: str, cond: z3.BoolRef) -> None:
            if not z3.is_false(cond):
                fails.setdefault(prop, []).append(cond)

        for op in t.ops:
            run = self._op(op, n, run, fail)
        n[self.system.processes[t.pid].pc_slot] = self.num(t.pc_to)
        written = frozenset(i for i in range(len(s)) if not n[i].eq(s[i]))
        return StepCode(run, {p: _or(*c) for p, c in fails.items()}, n, written)

    def _op(self, op: ir.Op, n: Vec, run: z3.BoolRef, report: Report) -> z3.BoolRef:
        """Encode one op: update ``n`` in place, report failure conditions, return the new
        "still running" condition."""
        if isinstance(op, ir.Guard):
            c = self.expr(op.cond, n)
            report(MODEL_ERROR, _and(run, c.err))
            return _and(run, z3.Not(c.err), as_bool(c.term))
        if isinstance(op, ir.Check):
            c = self.expr(op.cond, n)
            report(MODEL_ERROR, _and(run, c.err))
            report(op.prop, _and(run, z3.Not(c.err), z3.Not(as_bool(c.term))))
            return _and(run, z3.Not(c.err), as_bool(c.term))
        if isinstance(op, ir.Fail):
            report(MODEL_ERROR, run)
            return z3.BoolVal(False)
        if isinstance(op, ir.Assign):
            err = self._assign(op, n)
        elif isinstance(op, ir.ListRemove):
            err = self._remove(op, n)
        else:
            assert isinstance(op, ir.ListInsert)
            err = self._insert(op, n)
        report(MODEL_ERROR, _and(run, err))
        return _and(run, z3.Not(err))

    def _assign(self, op: ir.Assign, n: Vec) -> z3.BoolRef:
        """Update ``n`` in place; return the error condition (evaluated on the old ``n``)."""
        v = self.expr(op.value, n)
        x = self.int(v.term)
        below, above = self.ranges.crossed(op)
        out = _or(*[x < op.lo] * below, *[x > op.hi] * above)
        cases, loc_err = self.where(op.loc, n)
        for cond, i in cases:
            n[i] = x if z3.is_true(cond) else z3.If(cond, x, n[i])
        return _or(v.err, out, loc_err)

    def _remove(self, op: ir.ListRemove, n: Vec) -> z3.BoolRef:
        table = op.table
        elem = self.expr(op.elem, n)
        x = self.int(elem.term)
        on = _or(*(_and(x == r, n[node] != 0) for r, node in enumerate(table.node_slots, 1)))
        places, missing = self.place(table, x, n)
        old = list(n)
        for first, cap in table.heads:
            for j in range(cap):
                shifted = _or(*(c for c, f, _, k in places if f == first and k <= j))
                later = old[first + j + 1] if j + 1 < cap else self.num(0)
                n[first + j] = z3.If(shifted, later, old[first + j])
        for r, node in enumerate(table.node_slots, 1):
            n[node] = z3.If(x == r, self.num(0), old[node])
        return _or(elem.err, _outside(x, len(table.node_slots)), _and(on, missing))

    def _insert(self, op: ir.ListInsert, n: Vec) -> z3.BoolRef:
        table = op.table
        elem = self.expr(op.elem, n)
        x = self.int(elem.term)
        errs = [elem.err, _outside(x, len(table.node_slots))]
        errs += [_and(x == r, n[node] != 0) for r, node in enumerate(table.node_slots, 1)]
        targets, more = self._targets(op, n)
        errs.extend(more)
        old = list(n)
        for h, (first, cap) in enumerate(table.heads, 1):
            cond, index = targets.get(h, (z3.BoolVal(False), self.num(0)))
            if z3.is_false(cond):
                continue
            items, count = self._compact([old[first + k] for k in range(cap)])
            errs.append(_and(cond, count == cap))
            at = z3.If(index < count, index, count)
            for i in range(cap):
                before = items[i - 1] if i > 0 else self.num(0)
                value = z3.If(i < at, items[i], z3.If(i == at, x, before))
                n[first + i] = z3.If(cond, value, old[first + i])
        head_no = _select([(c, self.num(h)) for h, (c, _) in targets.items()], self.num(0))
        for r, node in enumerate(table.node_slots, 1):
            n[node] = z3.If(x == r, head_no, old[node])
        return _or(*errs)

    def _targets(
        self, op: ir.ListInsert, n: Vec
    ) -> tuple[dict[builtins.int, tuple[z3.BoolRef, z3.ArithRef]], list[z3.BoolRef]]:
        """For each head number of the table: when the element goes to that list and at which
        index; plus the error conditions of finding the place."""
        table = op.table
        targets: dict[int, tuple[z3.BoolRef, z3.ArithRef]] = {}
        if op.where in ("after", "before"):
            assert op.pos is not None
            pos = self.expr(op.pos, n)
            p = self.int(pos.term)
            off = 1 if op.where == "after" else 0
            places, missing = self.place(table, p, n)
            unplaced = _or(*(_and(p == r, n[node] == 0) for r, node in enumerate(table.node_slots, 1)))
            errs = [pos.err, _outside(p, len(table.node_slots)), unplaced, missing]
            for h, (first, _cap) in enumerate(table.heads, 1):
                mine = [(c, k) for c, f, _, k in places if f == first]
                cond = _or(*(c for c, _ in mine))
                index = _select([(c, self.num(k + off)) for c, k in mine], self.num(0))
                targets[h] = (cond, index)
            return targets, errs
        assert op.head is not None
        cases, err = self.heads(op.head, n)
        errs = [err]
        cap = op.head.capacity
        for cond, first in cases:
            if (first, cap) not in table.heads:
                errs.append(cond)  # the generated code cannot find this head in the table
                continue
            h = table.heads.index((first, cap)) + 1
            if op.where == "head":
                index = self.num(0)
            else:
                index = _select([(n[first + k] == 0, self.num(k)) for k in range(cap)], self.num(cap))
            prev = targets.get(h)
            if prev is None:
                targets[h] = (cond, index)
            else:
                targets[h] = (_or(prev[0], cond), z3.If(cond, index, prev[1]))
        return targets, errs

    def _compact(self, raw: list[z3.ArithRef]) -> tuple[list[z3.ArithRef], z3.ArithRef]:
        """The non-zero entries of ``raw`` moved to the front in order, and how many there are."""
        cap = len(raw)
        ranks: list[z3.ArithRef] = []
        count: z3.ArithRef = self.num(0)
        for x in raw:
            ranks.append(count)
            count = count + z3.If(x != 0, self.num(1), self.num(0))
        items = [
            _select([(z3.And(raw[j] != 0, ranks[j] == i), raw[j]) for j in range(i, cap)], self.num(0))
            for i in range(cap)
        ]
        return items, z3.simplify(count)


def _outside(x: z3.ArithRef, count: int) -> z3.BoolRef:
    return z3.Or(x < 1, x > count)


def _bitwise(op: str, x: z3.ArithRef, y: z3.ArithRef, w: int) -> z3.ArithRef:
    """``x op y`` on two's complement integers of w bits plus a sign (exact for values in
    -2**w .. 2**w - 1), in linear integer arithmetic."""
    combine: Callable[[z3.BoolRef, z3.BoolRef], z3.BoolRef] = {"&": z3.And, "|": z3.Or, "^": z3.Xor}[op]
    total: z3.ArithRef = z3.IntVal(0)
    for i in range(w):
        a = (x / (1 << i)) % 2 == 1
        b = (y / (1 << i)) % 2 == 1
        total = total + z3.If(combine(a, b), 1 << i, 0)
    sign = combine(x < 0, y < 0)
    return total - z3.If(sign, 1 << w, 0)
